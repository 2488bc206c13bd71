/**
 * Payments written to a test's requests topic as the producer service writes them: keyed
 * by payment id with Kafka's default partitioner, `acks=-1`, and idempotent, so a send
 * retried on a busy broker never writes its records twice (a test counting answers per
 * input record would otherwise see more inputs than it sent).
 *
 * @module
 */
import { type Kafka, Partitioners } from "kafkajs";
import type { PaymentEvent } from "@payments/shared/payment";
import type { TopicNames } from "@payments/shared/topics";

/** Options of {@linkcode produce}. */
export interface ProduceOptions {
  /** Every record to this partition (default: the partitioner, on the key). */
  partition?: number;
  /**
   * Each record's timestamp is its payment's `created_at` (a backlog of old payments, as
   * the lag monitor sees it); default the time of the send.
   */
  timestampFromCreatedAt?: boolean;
}

/** Writes `payments` to `target.topics.requests`, 500 records per send. */
export async function produce(
  target: { kafka: Kafka; topics: Pick<TopicNames, "requests"> },
  payments: PaymentEvent[],
  options: ProduceOptions = {},
): Promise<void> {
  const producer = target.kafka.producer({
    createPartitioner: Partitioners.DefaultPartitioner,
    idempotent: true,
    maxInFlightRequests: 1,
  });
  await producer.connect();
  try {
    for (let i = 0; i < payments.length; i += 500) {
      await producer.send({
        topic: target.topics.requests,
        acks: -1,
        messages: payments.slice(i, i + 500).map((p) => ({
          key: p.payment_id,
          value: JSON.stringify(p),
          headers: {
            correlation_id: p.correlation_id,
            traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
          },
          ...(options.partition === undefined ? {} : { partition: options.partition }),
          ...(options.timestampFromCreatedAt
            ? { timestamp: String(Date.parse(p.created_at)) }
            : {}),
        })),
      });
    }
  } finally {
    await producer.disconnect();
  }
}
