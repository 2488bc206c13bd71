/**
 * What the worker does when kafkajs reports that its consumer crashed (the `consumer.crash`
 * event). kafkajs itself restarts the consumer when the cause is retriable (a broker
 * gone for longer than its retries, say); when it is not (a group whose members speak
 * another protocol, a record batch no codec can decompress, a denied authorization)
 * it disconnects and never consumes again, on every partition. That must not be quiet:
 * the worker's state becomes `crashed` (/ready and /health answer 503,
 * `consumer_worker_state{state="crashed"}` is 1, the ConsumerCrashed alert fires) and
 * one error line names the topic, the group, the cause and where each partition with
 * records waiting stands, which is what docs/runbook.md#consumercrashed starts from.
 *
 * @module
 */
import type { Admin } from "kafkajs";
import type { Logger } from "@logtape/logtape";
import type { Counter } from "prom-client";

/** What {@linkcode createCrashHandler} needs. */
export interface CrashHandlerDeps {
  /** A connected admin client, to say where the partitions stand. */
  admin: Admin;
  topic: string;
  groupId: string;
  /** `consumer_errors_total{error_type}`; a crash counts as `crash`. */
  errors: Counter<"error_type">;
  logger: Logger;
  /** Longest wait for the offsets named in the log line (default 5000 ms). */
  offsetsTimeoutMs?: number;
}

/** A partition with records the group has not consumed. */
export interface WaitingPartition {
  partition: number;
  /** The offset the group would consume next. */
  offset: number;
  logEnd: number;
}

/**
 * An error and its causes in one line, with Kafka's error code where there is one:
 * `KafkaJSNonRetriableError: ... (caused by KafkaCodecError: Cannot decompress ...)`.
 */
export function describeCrashCause(error: unknown): string {
  const chain: unknown[] = [];
  for (let e: unknown = error; e !== undefined && e !== null && !chain.includes(e);) {
    chain.push(e);
    e = e instanceof Error
      ? e.cause ?? (e as { originalError?: unknown }).originalError
      : undefined;
  }
  const text = (e: unknown) => {
    if (!(e instanceof Error)) return String(e);
    const type = (e as { type?: unknown }).type;
    return `${e.name}${typeof type === "string" ? ` [${type}]` : ""}: ${e.message}`;
  };
  const message = (e: unknown) => (e instanceof Error ? e.message : String(e));
  // kafkajs wraps errors in others that repeat their message: keep the innermost one.
  const kept = chain.filter((e, i) =>
    i === chain.length - 1 || message(e) !== message(chain[i + 1])
  );
  return kept.map((e, i) => (i === 0 ? text(e) : `(caused by ${text(e)})`)).join(" ");
}

/** The partitions of `topic` where `groupId` has records left to consume. */
export async function waitingPartitions(
  admin: Admin,
  topic: string,
  groupId: string,
): Promise<WaitingPartition[]> {
  const [[committed], ends] = await Promise.all([
    admin.fetchOffsets({ groupId, topics: [topic] }),
    admin.fetchTopicOffsets(topic),
  ]);
  const next = new Map(
    (committed?.partitions ?? []).map((p) => [p.partition, Number(p.offset)] as const),
  );
  return ends
    .map((end) => {
      const offset = next.get(end.partition) ?? -1;
      return {
        partition: end.partition,
        // No committed offset yet: the group starts from the beginning (fromBeginning).
        offset: offset >= 0 ? offset : Number(end.low),
        logEnd: Number(end.high),
      };
    })
    .filter((p) => p.offset < p.logEnd)
    .sort((a, b) => a.partition - b.partition);
}

async function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Returns the handler of kafkajs' crash event: it counts the crash, logs it, and says
 * which state the worker is in now, `restarting` (kafkajs restarts by itself) or
 * `crashed` (it will not). It never throws.
 *
 * @example
 * ```ts
 * const onCrash = createCrashHandler({ admin, topic, groupId, errors: metrics.errors, logger });
 * consumer.on(consumer.events.CRASH, ({ payload }) => (state = onCrash(payload)));
 * ```
 */
export function createCrashHandler(
  deps: CrashHandlerDeps,
): (payload: { error: Error; restart: boolean }) => "restarting" | "crashed" {
  const { admin, topic, groupId, logger } = deps;
  return ({ error, restart }) => {
    deps.errors.labels("crash").inc();
    const cause = describeCrashCause(error);
    if (restart) {
      logger.warn(
        "Consumer of {topic} crashed on a retriable error; kafkajs restarts it: {cause}",
        {
          topic,
          group: groupId,
          cause,
        },
      );
      return "restarting";
    }
    void within(waitingPartitions(admin, topic, groupId), deps.offsetsTimeoutMs ?? 5000)
      .then((waiting) => ({ waiting, positions: positions(waiting) }))
      .catch((reason) => ({ waiting: [], positions: `unknown (${(reason as Error).message})` }))
      .then(({ waiting, positions }) => {
        logger.error(
          "Consumer stopped for good on {topic} in group {group}: {cause}. Records waiting: " +
            "{positions}. It stays up and not ready until restarted: see " +
            "docs/runbook.md#consumercrashed",
          { topic, group: groupId, cause, positions, waiting },
        );
      });
    return "crashed";
  };
}

function positions(waiting: WaitingPartition[]): string {
  if (waiting.length === 0) return "none";
  return waiting
    .map((p) => `partition ${p.partition} from offset ${p.offset} (log end ${p.logEnd})`)
    .join(", ");
}
