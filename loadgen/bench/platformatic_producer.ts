/**
 * The bare `@platformatic/kafka` idempotent producer on the same payment records as the
 * bare kafkajs producer (`kafkajs.ts`), with the same shape: `batchSize` records per
 * send, `concurrency` sends in flight, acks -1; and the CPU this process spent over the
 * timed sends. The library's own defaults otherwise (up to 5 requests in flight per
 * connection, where kafkajs' idempotent producer allows 1).
 *
 * @module
 */
import {
  compatibilityPartitioner,
  ProduceAcks,
  Producer,
  stringSerializers,
} from "@platformatic/kafka";
import type { Message } from "kafkajs";
import type { Throughput } from "./kafkajs.ts";
import { procCpuClock, startCpuSpan } from "./process_cpu.ts";

/** A kafkajs message as `@platformatic/kafka` takes it (strings throughout). */
function toPlatformatic(topic: string, message: Message) {
  return {
    topic,
    key: String(message.key),
    value: String(message.value),
    headers: Object.fromEntries(
      Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)]),
    ),
  };
}

/** Sends `records` in sends of `batchSize`, `concurrency` sends in flight. */
export async function platformaticProduce(
  brokers: string[],
  topic: string,
  records: Message[],
  batchSize: number,
  concurrency: number,
): Promise<Throughput> {
  const producer = new Producer({
    clientId: "bench-platformatic-producer",
    bootstrapBrokers: brokers,
    serializers: stringSerializers,
    idempotent: true,
    acks: ProduceAcks.ALL,
    autocreateTopics: false,
    // murmur2 as the Java client and kafkajs partition keys; the library's default
    // partitioner maps some keys to other partitions (docs/benchmarks.md).
    partitioner: compatibilityPartitioner,
  });
  // Converted before timing, as the kafkajs rows get their messages ready-made.
  const messages = records.map((m) => toPlatformatic(topic, m));
  try {
    // Warm up metadata, the connection and the producer id outside the measurement.
    await producer.send({ messages: messages.slice(0, 1) });
    let next = 1;
    const span = await startCpuSpan(procCpuClock(Deno.pid));
    const worker = async () => {
      while (next < messages.length) {
        const batch = messages.slice(next, next + batchSize);
        next += batchSize;
        await producer.send({ messages: batch });
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    const { cpuSeconds, wallSeconds } = await span.stop();
    const sent = messages.length - 1;
    return { records: sent, seconds: wallSeconds, recordsPerSec: sent / wallSeconds, cpuSeconds };
  } finally {
    await producer.close();
  }
}
