/**
 * The ceiling of our own client: a bare kafkajs producer and a bare `eachBatch`
 * consumer doing no work, on the same payment records the services carry.
 *
 * @module
 */
import { Kafka, logLevel, type Message, Partitioners, type PartitionMetadata } from "kafkajs";
import { toPaymentEvent } from "@payments/shared/payment";
import { createPaymentGenerator } from "../data.ts";
import { type CpuSpan, selfCpuSpan } from "./process_cpu.ts";
import { finishedWithin } from "./support.ts";

/** Payment records as the producer writes them: key, PaymentEvent JSON, headers. */
export function paymentRecords(count: number, seed: number, runId: string): Message[] {
  const generator = createPaymentGenerator({ seed, runId });
  const now = new Date();
  const records: Message[] = [];
  for (let i = 0; i < count; i++) {
    const payment = generator.payment();
    const correlationId = `bench-${runId}-${i}`;
    const event = toPaymentEvent({ ...payment, description: payment.description }, {
      correlationId,
      source: "bench",
      now,
    });
    records.push({
      key: payment.payment_id,
      value: JSON.stringify(event),
      headers: {
        correlation_id: correlationId,
        source: "bench",
        "content-type": "application/json",
        traceparent: `00-${"1".repeat(32)}-${"2".repeat(16)}-01`,
      },
    });
  }
  return records;
}

/** The size in bytes of a typical payment record value. */
export function typicalRecordSize(): number {
  const values = paymentRecords(200, 1, "size").map((r) =>
    new TextEncoder().encode(String(r.value)).length
  );
  return Math.round(values.reduce((a, b) => a + b, 0) / values.length);
}

/** A throughput measurement. */
export interface Throughput {
  records: number;
  seconds: number;
  recordsPerSec: number;
  /** CPU the measured process (this one, for the in-process loops) used over `seconds`. */
  cpuSeconds?: number;
}

function client(brokers: string[], clientId: string) {
  return new Kafka({ clientId, brokers, logLevel: logLevel.NOTHING });
}

/**
 * Sends `records` in sends of `batchSize` with `concurrency` sends in flight, using
 * the producer API's settings (idempotent, acks -1, one request in flight).
 *
 * `onePartitionPerSend` splits each batch by partition (kafkajs' default partitioner
 * on the topic's metadata) into concurrent sends of one partition each: the way to
 * keep kafkajs' whole-batch retry from re-sending records another broker is still
 * writing (docs/reliability.md), measured here for its cost.
 */
export async function bareProduce(
  brokers: string[],
  topic: string,
  records: Message[],
  batchSize: number,
  concurrency: number,
  options: { onePartitionPerSend?: boolean } = {},
): Promise<Throughput> {
  const kafka = client(brokers, "bench-bare-producer");
  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
  });
  const split = options.onePartitionPerSend
    ? byPartition(topic, await partitionsOf(kafka, topic))
    : (batch: Message[]) => [batch];
  await producer.connect();
  try {
    // Warm up metadata and the connection outside the measurement.
    await producer.send({ topic, acks: -1, messages: records.slice(0, 1) });
    let next = 1;
    const started = performance.now();
    const cpu = selfCpuSpan();
    const worker = async () => {
      while (next < records.length) {
        const batch = records.slice(next, next + batchSize);
        next += batchSize;
        await Promise.all(
          split(batch).map((messages) => producer.send({ topic, acks: -1, messages })),
        );
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    const seconds = (performance.now() - started) / 1000;
    const { cpuSeconds } = await cpu.stop();
    const sent = records.length - 1;
    return { records: sent, seconds, recordsPerSec: sent / seconds, cpuSeconds };
  } finally {
    await producer.disconnect();
  }
}

async function partitionsOf(kafka: Kafka, topic: string): Promise<PartitionMetadata[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
    const partitions = topics[0]?.partitions ?? [];
    if (partitions.length === 0) throw new Error(`no partition metadata for ${topic}`);
    return partitions;
  } finally {
    await admin.disconnect();
  }
}

/** Groups a batch by the partition kafkajs' default partitioner gives each record. */
function byPartition(topic: string, partitionMetadata: PartitionMetadata[]) {
  const partitioner = Partitioners.DefaultPartitioner();
  return (batch: Message[]): Message[][] => {
    const groups = new Map<number, Message[]>();
    for (const message of batch) {
      const partition = partitioner({ topic, partitionMetadata, message });
      const group = groups.get(partition) ?? [];
      group.push({ ...message, partition });
      groups.set(partition, group);
    }
    return [...groups.values()];
  };
}

/**
 * Reads `expected` records of `topic` from the beginning with a fresh group and an
 * `eachBatch` that does nothing; times the first fetched batch to the last record.
 */
export async function bareConsume(
  brokers: string[],
  topic: string,
  expected: number,
  timeoutMs = 120_000,
): Promise<Throughput> {
  const kafka = client(brokers, "bench-bare-consumer");
  const groupId = `bench-bare-${crypto.randomUUID().slice(0, 8)}`;
  const consumer = kafka.consumer({ groupId, sessionTimeout: 10_000, maxWaitTimeInMs: 100 });
  let count = 0;
  let first = 0;
  let last = 0;
  let cpu: ReturnType<typeof selfCpuSpan> | undefined;
  let cpuUsed: Promise<CpuSpan> | undefined;
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      partitionsConsumedConcurrently: 6,
      eachBatch: async ({ batch, resolveOffset, heartbeat }) => {
        if (first === 0) {
          first = performance.now();
          cpu = selfCpuSpan();
        }
        count += batch.messages.length;
        const lastMessage = batch.messages.at(-1);
        if (lastMessage) resolveOffset(lastMessage.offset);
        await heartbeat();
        if (count >= expected && last === 0) {
          last = performance.now();
          cpuUsed = cpu?.stop();
          done();
        }
      },
    });
    await finishedWithin(
      finished,
      timeoutMs,
      () => `bare consumer read ${count} of ${expected} records in time`,
    );
    const seconds = (last - first) / 1000;
    const used = await cpuUsed;
    return {
      records: count,
      seconds,
      recordsPerSec: count / seconds,
      ...(used ? { cpuSeconds: used.cpuSeconds } : {}),
    };
  } finally {
    await consumer.disconnect();
    const admin = kafka.admin();
    await admin.connect().then(() => admin.deleteGroups([groupId])).catch(() => {});
    await admin.disconnect().catch(() => {});
  }
}
