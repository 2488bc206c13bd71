/**
 * Reads a whole topic back with `read_committed` (kafkajs, a fresh group deleted
 * afterwards), for the check of a drain: the inputs, the results, a changelog.
 *
 * @module
 */
import { Kafka, logLevel } from "kafkajs";
import type { KeyedRecord } from "./verdict.ts";

/** Options of {@linkcode readTopic}. */
export interface ReadTopicOptions {
  /** Records expected; reading goes on `settleMs` past them, to catch any extra. */
  expected: number;
  /** Default 1 000 ms. */
  settleMs?: number;
  /** Give up when no record came for this long before `expected` (default 15 000 ms). */
  stallMs?: number;
}

/**
 * Every committed record of `topic`, each partition in offset order. Fewer than
 * `expected` when that many never came (the check then reports them missing).
 */
export async function readTopic(
  brokers: string[],
  topic: string,
  options: ReadTopicOptions,
): Promise<KeyedRecord[]> {
  const kafka = new Kafka({ clientId: "bench-read", brokers, logLevel: logLevel.NOTHING });
  const groupId = `bench-read-${crypto.randomUUID().slice(0, 8)}`;
  const consumer = kafka.consumer({ groupId, readUncommitted: false, maxWaitTimeInMs: 100 });
  const byPartition = new Map<number, KeyedRecord[]>();
  let count = 0;
  let lastAt = performance.now();
  const decoder = new TextDecoder();
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        const records = byPartition.get(batch.partition) ?? [];
        byPartition.set(batch.partition, records);
        for (const message of batch.messages) {
          records.push({
            key: message.key ? decoder.decode(message.key) : "",
            value: message.value ? decoder.decode(message.value) : "",
          });
        }
        count += batch.messages.length;
        lastAt = performance.now();
        await Promise.resolve();
      },
    });
    const settleMs = options.settleMs ?? 1000;
    const stallMs = options.stallMs ?? 15_000;
    for (;;) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      const quiet = performance.now() - lastAt;
      if (count >= options.expected ? quiet >= settleMs : quiet >= stallMs) break;
    }
    return [...byPartition.keys()].sort((a, b) => a - b).flatMap((p) => byPartition.get(p)!);
  } finally {
    await consumer.disconnect().catch(() => {});
    const admin = kafka.admin();
    await admin.connect().then(() => admin.deleteGroups([groupId])).catch(() => {});
    await admin.disconnect().catch(() => {});
  }
}
