/**
 * Starts the local Jaeger (built by {@linkcode ensureJaeger} unless a binary is given) on
 * the given ports and waits until it receives OTLP and answers its query API. The process
 * can never outlive the Deno process that started it.
 *
 * @example
 * ```ts
 * import { startJaeger } from "@payments/jaeger/launcher";
 * await using jaeger = await startJaeger({ ports: { otlpHttp: 14318, query: 26686 } });
 * const env = jaeger.otelEnv("payment-producer"); // OTEL_DENO, OTEL_EXPORTER_OTLP_ENDPOINT, ...
 * new Deno.Command("deno", { args: ["task", "producer"], env });
 * await fetch(`${jaeger.queryUrl}/api/services`);
 * ```
 *
 * @module
 */
import { join } from "node:path";
import { spawnGuarded } from "@payments/kafka/process";
import { ensureJaeger, JAEGER_VERSION } from "./build.ts";
import { DEFAULT_JAEGER_PORTS, jaegerConfig, type JaegerPorts } from "./config.ts";
import { JaegerError } from "./errors.ts";

export { JaegerError } from "./errors.ts";
export { DEFAULT_JAEGER_PORTS, type JaegerPorts } from "./config.ts";

/** Options of {@linkcode startJaeger}. */
export interface JaegerOptions {
  /** Ports to listen on; one left out is Jaeger's default ({@linkcode DEFAULT_JAEGER_PORTS}). */
  ports?: Partial<JaegerPorts>;
  /** Address to bind (default 127.0.0.1). */
  host?: string;
  /** Directory for its config and `jaeger.log`, kept (default: a temporary one, removed). */
  dir?: string;
  /** The binary (default: {@linkcode ensureJaeger}'s, built first when missing). */
  binary?: string;
  /** Traces kept in memory (default 100,000). */
  maxTraces?: number;
  /** Jaeger's own log level in `jaeger.log` (default `warn`). */
  logLevel?: "debug" | "info" | "warn" | "error";
  /** How long to wait for it to answer (default 30 s). */
  readyTimeoutMs?: number;
}

/** A running Jaeger. */
export interface JaegerServer extends AsyncDisposable {
  /** The Jaeger release, e.g. `2.12.0`. */
  readonly version: string;
  readonly pid: number;
  readonly ports: Readonly<JaegerPorts>;
  /** `http://<host>:<otlpHttp>`: what `OTEL_EXPORTER_OTLP_ENDPOINT` takes. */
  readonly otlpHttpUrl: string;
  /** `http://<host>:<otlpGrpc>`, for an exporter speaking OTLP over gRPC. */
  readonly otlpGrpcUrl: string;
  /** `http://<host>:<query>`: `/api/services`, `/api/traces`, `/api/traces/{id}`. */
  readonly queryUrl: string;
  /** Jaeger's own output. */
  readonly logFile: string;
  /** Resolves with the exit code once the process has exited. */
  readonly exited: Promise<number>;
  /** The environment that makes a Deno process export its spans here as `serviceName`. */
  otelEnv(serviceName: string): Record<string, string>;
  /** The last lines of {@linkcode logFile}, for failure messages. */
  tail(lines?: number): Promise<string>;
  /** SIGTERM (SIGKILL after 10 s), then removes a temporary directory; idempotent. */
  stop(): Promise<number>;
}

/**
 * Starts Jaeger and resolves once it is ready; throws a {@linkcode JaegerError} when a
 * port is taken, when it exits early (with its last log lines) or is not ready in time.
 */
export async function startJaeger(options: JaegerOptions = {}): Promise<JaegerServer> {
  const ports: JaegerPorts = { ...DEFAULT_JAEGER_PORTS, ...options.ports };
  const host = options.host ?? "127.0.0.1";
  for (const [role, port] of Object.entries(ports)) assertPortFree(host, port, role);
  const binary = options.binary ?? await ensureJaeger();
  const temporary = options.dir === undefined;
  const dir = options.dir ?? await Deno.makeTempDir({ prefix: "payments-jaeger-" });
  await Deno.mkdir(dir, { recursive: true });
  const configFile = join(dir, "config.json");
  const logFile = join(dir, "jaeger.log");
  const config = jaegerConfig({
    ports,
    host,
    ...(options.maxTraces ? { maxTraces: options.maxTraces } : {}),
    ...(options.logLevel ? { logLevel: options.logLevel } : {}),
  });
  await Deno.writeTextFile(configFile, JSON.stringify(config, null, 2) + "\n");
  // Go re-enables the SIGINT the guard ignores, so a terminal's Ctrl-C would stop Jaeger
  // behind its parent's back; in a session of its own only stop() stops it, in the order
  // its parent chooses (services first, so their last spans still arrive).
  const child = await spawnGuarded("setsid", [binary, "--config", `file:${configFile}`], {
    logFile,
  });

  const urlHost = host === "0.0.0.0" ? "127.0.0.1" : host;
  const otlpHttpUrl = `http://${urlHost}:${ports.otlpHttp}`;
  const queryUrl = `http://${urlHost}:${ports.query}`;
  const tail = async (lines = 30) => {
    const text = await Deno.readTextFile(logFile).catch(() => "");
    return text.trimEnd().split("\n").slice(-lines).join("\n");
  };
  let stopping: Promise<number> | undefined;
  const stop = () =>
    stopping ??= (async () => {
      const code = await child.stop(10_000);
      if (temporary) await Deno.remove(dir, { recursive: true }).catch(() => {});
      return code;
    })();

  try {
    await waitUntilReady(queryUrl, otlpHttpUrl, child, options.readyTimeoutMs ?? 30_000, tail);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    version: JAEGER_VERSION,
    pid: child.pid,
    ports,
    otlpHttpUrl,
    otlpGrpcUrl: `http://${urlHost}:${ports.otlpGrpc}`,
    queryUrl,
    logFile,
    exited: child.exited,
    otelEnv: (serviceName) => ({
      OTEL_DENO: "true",
      OTEL_SERVICE_NAME: serviceName,
      OTEL_EXPORTER_OTLP_ENDPOINT: otlpHttpUrl,
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/protobuf",
      // Jaeger takes traces only and answers 404 to Deno's metrics and console logs.
      OTEL_DENO_METRICS: "false",
      OTEL_DENO_CONSOLE: "ignore",
    }),
    tail,
    stop,
    [Symbol.asyncDispose]: async () => {
      await stop();
    },
  };
}

/** Ready when the query API answers 200 and the OTLP/HTTP receiver answers at all. */
async function waitUntilReady(
  queryUrl: string,
  otlpHttpUrl: string,
  child: { hasExited: boolean; exited: Promise<number> },
  timeoutMs: number,
  tail: () => Promise<string>,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.hasExited) {
      throw new JaegerError(
        `Jaeger exited with code ${await child.exited} before it was ready:\n${await tail()}`,
      );
    }
    if (await answers(`${queryUrl}/api/services`, true) && await answers(`${otlpHttpUrl}/`)) {
      return;
    }
    if (Date.now() > deadline) {
      throw new JaegerError(
        `Jaeger was not ready on ${queryUrl} within ${timeoutMs} ms:\n${await tail()}`,
        { retriable: true },
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function answers(url: string, needOk = false): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
    await response.body?.cancel();
    return needOk ? response.ok : true;
  } catch {
    return false;
  }
}

function assertPortFree(host: string, port: number, role: string): void {
  try {
    Deno.listen({ hostname: host, port }).close();
  } catch (error) {
    const why = error instanceof Deno.errors.AddrInUse
      ? "is already in use (another Jaeger running?); stop that process or choose another port"
      : `cannot be bound (${error instanceof Error ? error.message : error})`;
    throw new JaegerError(`Cannot start Jaeger: its ${role} port ${port} on ${host} ${why}`, {
      retriable: error instanceof Deno.errors.AddrInUse,
      cause: error,
    });
  }
}
