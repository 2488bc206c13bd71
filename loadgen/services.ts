/**
 * Producer and consumer as subprocesses for the integration test and the benchmarks:
 * started with `deno run -A <service>/main.ts` on a given port and environment,
 * awaited until `/ready`, sampled for RSS through `/metrics`, stopped with SIGTERM.
 * Also creates and deletes the isolated topics each run uses.
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { Kafka, logLevel } from "kafkajs";
import type { TopicNames } from "@payments/shared/topics";

const ROOT = fileURLToPath(new URL("../", import.meta.url));

/** A running service. */
export interface Service extends AsyncDisposable {
  readonly name: "producer" | "consumer";
  readonly url: string;
  readonly pid: number;
  /** `process_resident_memory_bytes` from its `/metrics`, undefined when unreadable. */
  rss(): Promise<number | undefined>;
  /** The last lines the service wrote (stdout and stderr), for failure messages. */
  tail(lines?: number): string;
  /** SIGTERM, SIGKILL after 15 s; resolves with the exit code. Idempotent. */
  stop(): Promise<number>;
}

/** Options of {@linkcode startService}. */
export interface ServiceOptions {
  port: number;
  brokers: string[];
  topics: TopicNames;
  groupId?: string;
  /** Extra environment (wins over the defaults here). */
  env?: Record<string, string>;
  /** Milliseconds to wait for `/ready` (default 60 000). */
  readyTimeoutMs?: number;
}

/** Reads one sample of a metric from a Prometheus text exposition. */
export function metricValue(text: string, name: string): number | undefined {
  for (const line of text.split("\n")) {
    if (line.startsWith(name + " ") || line.startsWith(name + "{")) {
      const value = Number(line.slice(line.lastIndexOf(" ") + 1));
      if (Number.isFinite(value)) return value;
    }
  }
  return undefined;
}

/** Starts `producer/main.ts` or `consumer/main.ts` and waits until it is ready. */
export async function startService(
  name: "producer" | "consumer",
  options: ServiceOptions,
): Promise<Service> {
  const port = String(options.port);
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${ROOT}${name}/main.ts`],
    cwd: ROOT,
    env: {
      KAFKA_BROKERS: options.brokers.join(","),
      TOPIC_PAYMENT_REQUESTS: options.topics.requests,
      TOPIC_PAYMENT_RESULTS: options.topics.results,
      TOPIC_PAYMENT_DLQ: options.topics.dlq,
      ...(options.groupId ? { CONSUMER_GROUP_ID: options.groupId } : {}),
      ...(name === "producer" ? { PRODUCER_PORT: port } : { CONSUMER_PORT: port }),
      LOG_LEVEL: "warning",
      NO_COLOR: "1",
      ...options.env,
    },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const output: string[] = [];
  const keep = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      output.push(...chunk.split("\n").filter((l) => l.length > 0));
      if (output.length > 400) output.splice(0, output.length - 200);
    }
  };
  const drained = Promise.all([keep(child.stdout), keep(child.stderr)]);
  let exited: number | undefined;
  const status = child.status.then((s) => (exited = s.code));
  const url = `http://127.0.0.1:${port}`;
  const tail = (lines = 30) => output.slice(-lines).join("\n");
  let stopping: Promise<number> | undefined;
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
        }, 15_000);
        await status;
        clearTimeout(timer);
      }
      await drained;
      return exited!;
    })();

  const deadline = Date.now() + (options.readyTimeoutMs ?? 60_000);
  for (;;) {
    if (exited !== undefined) {
      await drained;
      throw new Error(`The ${name} exited with code ${exited} before it was ready:\n${tail()}`);
    }
    try {
      const response = await fetch(`${url}/ready`, { signal: AbortSignal.timeout(2000) });
      await response.body?.cancel();
      if (response.ok) break;
    } catch { /* not listening yet */ }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`The ${name} was not ready on ${url} within the timeout:\n${tail()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }

  return {
    name,
    url,
    pid: child.pid,
    async rss() {
      try {
        const response = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(5000) });
        return metricValue(await response.text(), "process_resident_memory_bytes");
      } catch {
        return undefined;
      }
    },
    tail,
    stop,
    async [Symbol.asyncDispose]() {
      await stop();
    },
  };
}

/** Topic names unique to one run, so runs never see each other's records. */
export function uniqueTopics(prefix: string): TopicNames {
  const id = crypto.randomUUID().slice(0, 8);
  return {
    requests: `${prefix}-${id}.requests`,
    results: `${prefix}-${id}.results`,
    dlq: `${prefix}-${id}.requests.dlq`,
  };
}

/** Creates the three topics (requests and results with `partitions` each). */
export async function createTopics(
  brokers: string[],
  topics: TopicNames,
  partitions = 6,
): Promise<void> {
  const admin = new Kafka({ clientId: "loadgen-admin", brokers, logLevel: logLevel.NOTHING })
    .admin();
  await admin.connect();
  try {
    await admin.createTopics({
      waitForLeaders: true,
      topics: [topics.requests, topics.results, topics.dlq].map((topic) => ({
        topic,
        numPartitions: partitions,
        replicationFactor: 1,
      })),
    });
  } finally {
    await admin.disconnect();
  }
}

/** Deletes topics; errors are ignored (clean-up must not hide a test's failure). */
export async function deleteTopics(brokers: string[], names: string[]): Promise<void> {
  const admin = new Kafka({ clientId: "loadgen-admin", brokers, logLevel: logLevel.NOTHING })
    .admin();
  try {
    await admin.connect();
    await admin.deleteTopics({ topics: names, timeout: 10_000 });
  } catch {
    /* best effort */
  } finally {
    await admin.disconnect().catch(() => {});
  }
}
