/**
 * The producer and the consumer as real subprocesses (`deno run -A <service>/main.ts`,
 * with their OpenTelemetry defaults, `./telemetry.ts`),
 * the one way the bench and the tests start a service: every line they write is kept
 * (tests grep them for secrets), `/ready` can be awaited, and each can be killed with any
 * signal. {@linkcode runUntilExit} runs one that is expected to refuse to start.
 *
 * Two defaults differ from a production start, both overridable through `env`: a
 * consumer advertises `http://127.0.0.1:<port>` for status reads (the producer of a run
 * is on this machine, whatever the host name resolves to), and a producer runs no
 * end-to-end probe (`PROBE_INTERVAL_MS=0`), whose payments would add records a run did
 * not send to the topics it counts.
 *
 * @example
 * ```ts
 * import { startService } from "@payments/stack/services";
 * await using producer = await startService("producer", { env: { KAFKA_BROKERS: "127.0.0.1:9092" } });
 * await fetch(`${producer.url}/health`);
 * ```
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { freePort } from "@payments/kafka/ports";
import { metricValue } from "@payments/shared/metrics";
import { type TopicNames, topicsEnv } from "@payments/shared/topics";
import { telemetryEnvFlag } from "./telemetry.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));

/** Options of {@linkcode startService}. */
export interface ServiceOptions {
  /** Environment of the service (wins over the defaults: JSON logs at info, a free port). */
  env?: Record<string, string>;
  /** HTTP port (default: a free one). */
  port?: number;
  /** Wait until `/ready` answers 200 (default true); false returns once `/health` answers,
   * whatever its status (a consumer that crashed for good answers 503). */
  waitReady?: boolean;
  /** Milliseconds to wait for `/ready` or `/health` (default 60 000). */
  timeoutMs?: number;
  /** Extra flags of `deno run` (`--inspect=...` for a CPU profile, say). */
  denoFlags?: string[];
  /** Shorthand for the connection variables ({@linkcode serviceEnv}); `env` wins. */
  brokers?: string[];
  topics?: TopicNames;
  groupId?: string;
}

/** A running service subprocess. */
export interface ServiceProcess extends AsyncDisposable {
  readonly name: "producer" | "consumer";
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  /** Every line written so far on stdout and stderr. */
  lines(): string[];
  /** The last `n` lines, for failure messages. */
  tail(n?: number): string;
  /** Resolves with the exit code (128 + n when killed by signal n). */
  readonly exited: Promise<number>;
  readonly hasExited: boolean;
  /** Resolves once `/ready` answers 200; throws after `timeoutMs` with the log tail. */
  waitReady(timeoutMs?: number): Promise<void>;
  /** Sends a signal; no-op once exited. */
  kill(signal?: Deno.Signal): void;
  /** SIGTERM, SIGKILL after `timeoutMs` (default 15 000); resolves with the exit code. */
  stop(timeoutMs?: number): Promise<number>;
  /** `process_resident_memory_bytes` from its `/metrics`, undefined when unreadable. */
  rss(): Promise<number | undefined>;
}

const SIGNALS: Record<string, number> = { SIGINT: 2, SIGKILL: 9, SIGTERM: 15, SIGSTOP: 19 };

/** A service's entry point, `<repository>/<name>/main.ts`. */
function mainOf(name: "producer" | "consumer"): string {
  return `${ROOT}${name}/main.ts`;
}

/** Starts `producer/main.ts` or `consumer/main.ts` and waits until it serves HTTP. */
export async function startService(
  name: "producer" | "consumer",
  options: ServiceOptions = {},
): Promise<ServiceProcess> {
  const port = options.port ?? freePort();
  // Each consumer process gets a state directory of its own, as if on its own machine,
  // unless the test shares one (a restart on the same disk).
  const stateDir = name === "consumer" && !options.env?.CONSUMER_STATE_DIR
    ? await Deno.makeTempDir({ prefix: "payments-consumer-state-" })
    : undefined;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", telemetryEnvFlag(name), ...(options.denoFlags ?? []), mainOf(name)],
    cwd: ROOT,
    env: {
      LOG_LEVEL: "info",
      LOG_FORMAT: "json",
      NO_COLOR: "1",
      ...(name === "producer"
        ? { PRODUCER_PORT: String(port), PROBE_INTERVAL_MS: "0" }
        : { CONSUMER_PORT: String(port), CONSUMER_ADVERTISED_URL: `http://127.0.0.1:${port}` }),
      ...(stateDir ? { CONSUMER_STATE_DIR: stateDir } : {}),
      ...(options.brokers && options.topics
        ? serviceEnv(options.brokers.join(","), options.topics)
        : {}),
      ...(options.groupId ? { CONSUMER_GROUP_ID: options.groupId } : {}),
      ...options.env,
    },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const output: string[] = [];
  const keep = async (stream: ReadableStream<Uint8Array>) => {
    let partial = "";
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      const parts = (partial + chunk).split("\n");
      partial = parts.pop() ?? "";
      output.push(...parts.filter((l) => l.length > 0));
    }
    if (partial) output.push(partial);
  };
  const drained = Promise.all([keep(child.stdout), keep(child.stderr)]);
  let exitCode: number | undefined;
  const exited = child.status.then(async (s) => {
    exitCode = s.signal ? 128 + (SIGNALS[s.signal] ?? 0) : s.code;
    await drained;
    if (stateDir) await Deno.remove(stateDir, { recursive: true }).catch(() => {});
    return exitCode;
  });
  const url = `http://127.0.0.1:${port}`;
  const tail = (n = 30) => output.slice(-n).join("\n");
  const kill = (signal: Deno.Signal = "SIGTERM") => {
    if (exitCode !== undefined) return;
    try {
      child.kill(signal);
    } catch { /* already gone */ }
  };
  let stopping: Promise<number> | undefined;
  const stop = (timeoutMs = 15_000) =>
    stopping ??= (async () => {
      kill("SIGCONT");
      kill("SIGTERM");
      const timer = setTimeout(() => kill("SIGKILL"), timeoutMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    })();
  const waitFor = async (path: string, timeoutMs: number, anyStatus = false) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (exitCode !== undefined) {
        await exited;
        throw new Error(
          `The ${name} exited with code ${exitCode} before ${path} was 200:\n${tail()}`,
        );
      }
      try {
        const response = await fetch(`${url}${path}`, { signal: AbortSignal.timeout(2000) });
        await response.body?.cancel();
        if (response.ok || anyStatus) return;
      } catch { /* not listening yet */ }
      if (Date.now() > deadline) {
        throw new Error(
          `The ${name} on ${url} did not answer ${path} 200 within ${timeoutMs} ms:\n${tail()}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  };
  const service: ServiceProcess = {
    name,
    url,
    port,
    pid: child.pid,
    lines: () => [...output],
    tail,
    exited,
    get hasExited() {
      return exitCode !== undefined;
    },
    waitReady: (timeoutMs = 60_000) => waitFor("/ready", timeoutMs),
    kill,
    stop,
    async rss() {
      try {
        const response = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(5000) });
        return metricValue(await response.text(), "process_resident_memory_bytes");
      } catch {
        return undefined;
      }
    },
    [Symbol.asyncDispose]: async () => {
      await stop();
    },
  };
  try {
    const timeoutMs = options.timeoutMs ?? 60_000;
    await (options.waitReady === false
      ? waitFor("/health", timeoutMs, true)
      : waitFor("/ready", timeoutMs));
  } catch (error) {
    await stop();
    throw error;
  }
  return service;
}

/** Environment connecting a service to `brokers` with the given topic names and group. */
export function serviceEnv(
  brokers: string,
  topics: TopicNames,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    KAFKA_BROKERS: brokers,
    ...topicsEnv(topics),
    ...extra,
  };
}

/** How a service that ended by itself ended: its exit code and what it wrote on stderr. */
export interface ServiceExit {
  code: number;
  /** stderr, trimmed. */
  stderr: string;
}

/**
 * Runs `producer/main.ts` or `consumer/main.ts` with `env` over this process' environment
 * (no defaults added) until it exits by itself, stdout discarded: how a service refusing
 * to start is observed.
 */
export async function runUntilExit(
  name: "producer" | "consumer",
  env: Record<string, string>,
): Promise<ServiceExit> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", telemetryEnvFlag(name), mainOf(name)],
    cwd: ROOT,
    env,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).output();
  return { code: output.code, stderr: new TextDecoder().decode(output.stderr).trim() };
}
