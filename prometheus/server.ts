/**
 * Debian's `prometheus` as a subprocess for the live test: a given configuration, a
 * throw-away TSDB, a loopback port, and a small client for its HTTP API.
 *
 * @module
 */
import { freePort } from "@payments/kafka/harness";

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

/** A running Prometheus. */
export interface PrometheusServer extends AsyncDisposable {
  readonly url: string;
  readonly port: number;
  /** Evaluates `expr` now through `/api/v1/query`. */
  query(expr: string): Promise<QueryAnswer>;
  /** The rule groups as `/api/v1/rules` reports them. */
  rules(): Promise<RuleGroupState[]>;
  /** Its last log lines, for failure messages. */
  tail(lines?: number): string;
  /** SIGTERM (SIGKILL after 10 s), then removes the TSDB and config. Idempotent. */
  stop(): Promise<void>;
}

/** The command that installs the binary, for the message when it is missing. */
export const PROMETHEUS_INSTALL = "apt-get install prometheus";

/**
 * Writes `config` (a prometheus.yml as an object; JSON is valid YAML) to a temporary
 * directory, starts `prometheus` on `port` with its TSDB there, and waits for `/-/ready`.
 * `config` may use `{{PORT}}` in strings for the port it listens on (to scrape itself).
 */
export async function startPrometheus(
  config: unknown,
  { port = freePort("127.0.0.1"), readyTimeoutMs = 30_000 } = {},
): Promise<PrometheusServer> {
  const dir = await Deno.makeTempDir({ prefix: "payments-prometheus-" });
  const configFile = `${dir}/prometheus.yml`;
  await Deno.writeTextFile(configFile, JSON.stringify(config).replaceAll("{{PORT}}", `${port}`));
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command("prometheus", {
      args: [
        `--config.file=${configFile}`,
        `--storage.tsdb.path=${dir}/data`,
        `--web.listen-address=127.0.0.1:${port}`,
        // Light on a shared machine: a short retention, few concurrent queries, quiet logs.
        "--storage.tsdb.retention.time=1h",
        "--query.max-concurrency=4",
        "--web.max-connections=32",
        "--log.level=warn",
      ],
      // One OS thread for Go code is plenty for a handful of series.
      env: { GOMAXPROCS: "1" },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  } catch (error) {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    if (error instanceof Deno.errors.NotFound) {
      throw new Error(`prometheus is not installed; install it with: ${PROMETHEUS_INSTALL}`, {
        cause: error,
      });
    }
    throw error;
  }
  const output: string[] = [];
  const keep = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      output.push(...chunk.split("\n").filter((line) => line.length > 0));
      if (output.length > 400) output.splice(0, output.length - 200);
    }
  };
  const drained = Promise.all([keep(child.stdout), keep(child.stderr)]);
  let exited: number | undefined;
  const status = child.status.then((s) => (exited = s.code));
  const url = `http://127.0.0.1:${port}`;
  const tail = (lines = 30) => output.slice(-lines).join("\n");
  let stopping: Promise<void> | undefined;
  const stop = () =>
    stopping ??= (async () => {
      if (exited === undefined) {
        try {
          child.kill("SIGTERM");
        } catch { /* already gone */ }
        const timer = setTimeout(() => {
          try {
            child.kill("SIGKILL");
          } catch { /* already gone */ }
        }, 10_000);
        await status;
        clearTimeout(timer);
      }
      await drained;
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    })();

  const api = async <T>(path: string): Promise<T> => {
    const response = await fetch(`${url}${path}`, { signal: AbortSignal.timeout(10_000) });
    return await response.json() as T;
  };

  const deadline = Date.now() + readyTimeoutMs;
  for (;;) {
    if (exited !== undefined) {
      await stop();
      throw new Error(`prometheus exited with code ${exited} before it was ready:\n${tail()}`);
    }
    try {
      const response = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(2000) });
      await response.body?.cancel();
      if (response.ok) break;
    } catch { /* not listening yet */ }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`prometheus was not ready on ${url} within ${readyTimeoutMs} ms:\n${tail()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }

  return {
    url,
    port,
    async query(expr) {
      const body = await api<{ status: "success" | "error"; error?: string; data?: unknown }>(
        `/api/v1/query?query=${encodeURIComponent(expr)}`,
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
    async rules() {
      return (await api<{ data: { groups: RuleGroupState[] } }>("/api/v1/rules")).data.groups;
    },
    tail,
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
