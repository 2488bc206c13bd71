/**
 * Debian's `prometheus-alertmanager` as a subprocess for the live alert delivery test:
 * a given configuration, a throw-away data directory, a loopback port, clustering off,
 * and its API's view of the alerts.
 *
 * @module
 */
import { freePort } from "@payments/kafka/ports";
import { getJson, startDaemon } from "./daemon.ts";

/** The Debian binary (the upstream name `alertmanager` is not on the PATH there). */
export const ALERTMANAGER_COMMAND = "prometheus-alertmanager";

/** An alert as `/api/v2/alerts` reports it. */
export interface AlertmanagerAlert {
  labels: Record<string, string>;
  receivers: { name: string }[];
  status: { state: string; inhibitedBy: string[]; silencedBy: string[] };
}

/** A running Alertmanager. */
export interface AlertmanagerServer extends AsyncDisposable {
  readonly url: string;
  readonly port: number;
  /** Every alert it holds, active, inhibited or silenced. */
  alerts(): Promise<AlertmanagerAlert[]>;
  tail(lines?: number): string;
  stop(): Promise<void>;
}

/**
 * Writes `config` (an alertmanager.yml as an object) to a temporary directory and starts
 * Alertmanager on a free loopback port. Gossip clustering is off, so parallel runs on one
 * machine do not fight over its default port 9094 or join each other's cluster.
 */
export async function startAlertmanager(
  config: unknown,
  { port = freePort("127.0.0.1"), readyTimeoutMs = 30_000 } = {},
): Promise<AlertmanagerServer> {
  const url = `http://127.0.0.1:${port}`;
  const daemon = await startDaemon({
    command: ALERTMANAGER_COMMAND,
    install: "prometheus-alertmanager",
    prefix: "payments-alertmanager-",
    files: { "alertmanager.yml": JSON.stringify(config) },
    args: [
      "--config.file={{DIR}}/alertmanager.yml",
      "--storage.path={{DIR}}/data",
      `--web.listen-address=127.0.0.1:${port}`,
      "--cluster.listen-address=",
      "--log.level=warn",
    ],
    env: { GOMAXPROCS: "1" },
    readyUrl: `${url}/-/ready`,
    readyTimeoutMs,
  });
  return {
    url,
    port,
    alerts: () => getJson<AlertmanagerAlert[]>(`${url}/api/v2/alerts`),
    tail: daemon.tail,
    stop: daemon.stop,
    [Symbol.asyncDispose]: daemon.stop,
  };
}
