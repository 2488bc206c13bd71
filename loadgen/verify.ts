/**
 * Reads `payment_results` with read_committed, from offsets captured before the run,
 * into a {@linkcode ResultTracker}. The reader uses a fresh consumer group whose
 * committed offsets are set to the captured log-end offsets, so it sees exactly the
 * results written since the run began, and the group is deleted afterwards.
 *
 * @module
 */
import { Kafka, logLevel } from "kafkajs";
import type { ResultTracker } from "./tracker.ts";

/** A running results reader. */
export interface ResultReader {
  /** Stops reading, leaves and deletes the group. */
  stop(): Promise<void>;
}

/** Options of {@linkcode startResultReader}. */
export interface ResultReaderOptions {
  brokers: string[];
  topic: string;
  /** Only ids with this prefix belong to the run. */
  idPrefix: string;
  tracker: ResultTracker;
  /** Consumer group of the reader; must be unused. */
  groupId: string;
  /** Called on a record that cannot be read (not JSON, no payment_id). */
  onBadRecord?: (reason: string) => void;
}

/** Thrown when the verifier cannot reach Kafka or the results topic. */
export class VerifyError extends Error {
  override name = "VerifyError";
  constructor(message: string, readonly retriable: boolean, options?: ErrorOptions) {
    super(message, options);
  }
}

/** Log-end offsets of every partition of `topic`: where this run's results will start. */
export async function captureOffsets(
  brokers: string[],
  topic: string,
): Promise<Array<{ partition: number; offset: string }>> {
  const kafka = new Kafka({
    clientId: "loadgen-verify",
    brokers,
    logLevel: logLevel.NOTHING,
    connectionTimeout: 3000,
    retry: { retries: 2 },
  });
  const admin = kafka.admin();
  try {
    await admin.connect();
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.map(({ partition, high }) => ({ partition, offset: high }));
  } catch (error) {
    throw new VerifyError(
      `Cannot read the offsets of ${topic} on ${brokers.join(",")} for --verify: ` +
        `${(error as Error).message} (is the broker running and the topic created? pass --brokers)`,
      true,
      { cause: error },
    );
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

/**
 * Starts reading results from `startOffsets` (see {@linkcode captureOffsets}).
 * Resolves once the reader has joined its group and is fetching.
 */
export async function startResultReader(
  options: ResultReaderOptions,
  startOffsets: Array<{ partition: number; offset: string }>,
): Promise<ResultReader> {
  const kafka = new Kafka({
    clientId: "loadgen-verify",
    brokers: options.brokers,
    logLevel: logLevel.NOTHING,
    connectionTimeout: 3000,
  });
  const admin = kafka.admin();
  await admin.connect();
  await admin.setOffsets({
    groupId: options.groupId,
    topic: options.topic,
    partitions: startOffsets,
  });
  const consumer = kafka.consumer({
    groupId: options.groupId,
    readUncommitted: false,
    sessionTimeout: 10_000,
    heartbeatInterval: 1000,
    maxWaitTimeInMs: 100,
    allowAutoTopicCreation: false,
  });
  const joined = new Promise<void>((resolve) => {
    consumer.on(consumer.events.GROUP_JOIN, () => resolve());
  });
  const decoder = new TextDecoder();
  await consumer.connect();
  await consumer.subscribe({ topic: options.topic, fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: true,
    eachBatch: async ({ batch }) => {
      const readAtMs = Date.now();
      for (const message of batch.messages) {
        const key = message.key ? decoder.decode(message.key) : "";
        // Keys are payment ids: skip other runs' results without parsing them.
        if (key && !key.startsWith(options.idPrefix)) continue;
        let value: Record<string, unknown>;
        try {
          value = JSON.parse(decoder.decode(message.value ?? new Uint8Array()));
        } catch {
          options.onBadRecord?.(`offset ${message.offset}: value is not JSON`);
          continue;
        }
        const paymentId = typeof value.payment_id === "string" ? value.payment_id : key;
        if (!paymentId.startsWith(options.idPrefix)) continue;
        const createdAtMs = typeof value.created_at === "string"
          ? Date.parse(value.created_at)
          : undefined;
        options.tracker.observe({
          paymentId,
          outcome: String(value.outcome),
          timestampMs: Number(message.timestamp),
          readAtMs,
          ...(createdAtMs !== undefined && !Number.isNaN(createdAtMs) ? { createdAtMs } : {}),
        });
      }
      await Promise.resolve();
    },
  });
  await joined;
  return {
    async stop() {
      await consumer.disconnect().catch(() => {});
      await admin.deleteGroups([options.groupId]).catch(() => {});
      await admin.disconnect().catch(() => {});
    },
  };
}

/**
 * Waits until nothing is outstanding (then `settleMs` more, to catch extra results
 * written right behind) or `timeoutMs` passes, or `signal` aborts.
 */
export async function waitForResults(
  tracker: ResultTracker,
  options: { timeoutMs: number; settleMs?: number; signal?: AbortSignal; onTick?: () => void },
): Promise<{ timedOut: boolean; waitedMs: number }> {
  const started = performance.now();
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  while (tracker.outstanding > 0) {
    if (options.signal?.aborted) return { timedOut: false, waitedMs: performance.now() - started };
    if (performance.now() - started >= options.timeoutMs) {
      return { timedOut: true, waitedMs: performance.now() - started };
    }
    options.onTick?.();
    await sleep(100);
  }
  await sleep(options.settleMs ?? 500);
  return { timedOut: false, waitedMs: performance.now() - started };
}
