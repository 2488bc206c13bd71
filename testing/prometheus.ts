/**
 * Debian's `prometheus` as a subprocess of a test (the one Prometheus of the tests: the
 * live, alert and chaos tests): a given configuration, a throw-away TSDB, a loopback
 * port, exemplar storage on, and a small client for its HTTP API.
 *
 * @module
 */
import { freePort } from "@payments/kafka/ports";
import { getJson, startDaemon } from "./daemon.ts";

/** One series of an instant query. */
export interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

/** What `/api/v1/query` answered: `error` is set when the expression did not evaluate. */
export interface QueryAnswer {
  status: "success" | "error";
  error?: string;
  resultType?: string;
  result: Sample[];
}

/** A rule of `/api/v1/rules`. */
export interface RuleState {
  name: string;
  health: string;
  lastError?: string;
}

/** A rule group of `/api/v1/rules`. */
export interface RuleGroupState {
  name: string;
  file: string;
  rules: RuleState[];
}

/** An alert of `/api/v1/alerts`. */
export interface AlertState {
  labels: Record<string, string>;
  state: string;
}

/** The command that installs the binary, for the message when it is missing. */
export const PROMETHEUS_INSTALL = "apt-get install prometheus";

/** One exemplar of `/api/v1/query_exemplars`. */
export interface Exemplar {
  labels: Record<string, string>;
  value: string;
  timestamp: number;
}

/** The exemplars of one series of `/api/v1/query_exemplars`. */
export interface SeriesExemplars {
  seriesLabels: Record<string, string>;
  exemplars: Exemplar[];
}

/** A running Prometheus. */
export interface PrometheusServer extends AsyncDisposable {
  readonly url: string;
  readonly port: number;
  /** Evaluates `expr` now through `/api/v1/query`. */
  query(expr: string): Promise<QueryAnswer>;
  /** The exemplars of the series `expr` selects over the last `seconds` (default 10 minutes). */
  exemplars(expr: string, seconds?: number): Promise<SeriesExemplars[]>;
  /** The rule groups as `/api/v1/rules` reports them. */
  rules(): Promise<RuleGroupState[]>;
  /** The alerts as `/api/v1/alerts` reports them (pending and firing). */
  alerts(): Promise<AlertState[]>;
  /** Its last log lines, for failure messages. */
  tail(lines?: number): string;
  /** SIGTERM (SIGKILL after 10 s), then removes the TSDB and config. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Writes `config` (a prometheus.yml as an object; JSON is valid YAML) to a temporary
 * directory, starts `prometheus` on `port` with its TSDB there and exemplar storage on
 * (as compose.yaml runs it), and waits for `/-/ready`. `config` may use `{{PORT}}` in
 * strings for the port it listens on (to scrape itself), `files` are written beside it
 * (rule files for a test, named relative to it), and `args` are added to the command line.
 */
export async function startPrometheus(
  config: unknown,
  {
    port = freePort("127.0.0.1"),
    readyTimeoutMs = 30_000,
    files = {} as Record<string, string>,
    args = [] as string[],
  } = {},
): Promise<PrometheusServer> {
  const url = `http://127.0.0.1:${port}`;
  const daemon = await startDaemon({
    command: "prometheus",
    install: "prometheus",
    prefix: "payments-prometheus-",
    files: {
      ...files,
      "prometheus.yml": JSON.stringify(config).replaceAll("{{PORT}}", `${port}`),
    },
    args: [
      "--config.file={{DIR}}/prometheus.yml",
      "--storage.tsdb.path={{DIR}}/data",
      `--web.listen-address=127.0.0.1:${port}`,
      "--enable-feature=exemplar-storage",
      // Light on a shared machine: a short retention, few concurrent queries, quiet logs.
      "--storage.tsdb.retention.time=1h",
      "--query.max-concurrency=4",
      "--web.max-connections=32",
      "--log.level=warn",
      ...args,
    ],
    // One OS thread for Go code is plenty for a handful of series.
    env: { GOMAXPROCS: "1" },
    readyUrl: `${url}/-/ready`,
    readyTimeoutMs,
  });

  return {
    url,
    port,
    async query(expr) {
      const body = await getJson<{ status: "success" | "error"; error?: string; data?: unknown }>(
        `${url}/api/v1/query?query=${encodeURIComponent(expr)}`,
      );
      const data = body.data as { resultType?: string; result?: unknown } | undefined;
      // A scalar answers one value rather than a list of series.
      const result = data?.resultType === "scalar" || data?.resultType === "string"
        ? [{ metric: {}, value: data.result as [number, string] }]
        : (data?.result as Sample[] | undefined) ?? [];
      return {
        status: body.status,
        ...(body.error ? { error: body.error } : {}),
        ...(data?.resultType ? { resultType: data.resultType } : {}),
        result,
      };
    },
    async exemplars(expr, seconds = 600) {
      const end = Date.now() / 1000;
      const body = await getJson<{ status: string; error?: string; data?: SeriesExemplars[] }>(
        `${url}/api/v1/query_exemplars?query=${encodeURIComponent(expr)}` +
          `&start=${end - seconds}&end=${end}`,
      );
      if (body.status !== "success") {
        throw new Error(`query_exemplars ${expr} failed: ${body.error}`);
      }
      return body.data ?? [];
    },
    async rules() {
      return (await getJson<{ data: { groups: RuleGroupState[] } }>(`${url}/api/v1/rules`)).data
        .groups;
    },
    async alerts() {
      return (await getJson<{ data: { alerts: AlertState[] } }>(`${url}/api/v1/alerts`)).data
        .alerts;
    },
    tail: daemon.tail,
    stop: daemon.stop,
    [Symbol.asyncDispose]: daemon.stop,
  };
}
