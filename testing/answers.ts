/**
 * What the consumer committed for a test's inputs, read back with a kafkajs consumer in
 * `read_committed` mode: every record of the results and dead-letter topics, raw bytes
 * kept (a dead letter carries the input's bytes untouched).
 *
 * @module
 */
import type { Kafka } from "kafkajs";
import type { PaymentResult } from "@payments/shared/payment";
import type { TopicNames } from "@payments/shared/topics";

/** One committed answer (result or dead letter). */
export interface Answer {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  value: Uint8Array | null;
  headers: Record<string, string>;
  /** The parsed result; undefined for a dead letter. */
  result?: PaymentResult;
}

/**
 * Committed records on results and DLQ (read_committed), once at least `count` arrived
 * and nothing more came for `quietMs`, or when `timeoutMs` has passed.
 */
export async function readAnswers(
  t: { kafka: Kafka; topics: Pick<TopicNames, "results" | "dlq"> },
  count: number,
  timeoutMs = 30_000,
  quietMs = 1000,
): Promise<Answer[]> {
  const consumer = t.kafka.consumer({
    groupId: `reader-${crypto.randomUUID()}`,
    readUncommitted: false,
    maxWaitTimeInMs: 200,
  });
  const answers: Answer[] = [];
  let last = Date.now();
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [t.topics.results, t.topics.dlq], fromBeginning: true });
    await consumer.run({
      eachMessage: ({ topic, partition, message }) => {
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(message.headers ?? {})) {
          headers[k] = String(Array.isArray(v) ? v[v.length - 1] : v);
        }
        answers.push({
          topic,
          partition,
          offset: message.offset,
          key: message.key?.toString() ?? null,
          value: message.value,
          headers,
          ...(topic === t.topics.results
            ? { result: JSON.parse(message.value!.toString()) as PaymentResult }
            : {}),
        });
        last = Date.now();
        return Promise.resolve();
      },
    });
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (answers.length >= count && Date.now() - last >= quietMs) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } finally {
    await consumer.disconnect();
  }
  return answers;
}
