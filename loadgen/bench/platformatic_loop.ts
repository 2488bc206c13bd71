/**
 * The bare kafkajs consume-transform-produce loop (`transactional.ts`) rewritten for
 * `@platformatic/kafka`, same shape: one transactional producer per input partition,
 * transactions of at most 500 records, each record parsed and answered with a small
 * JSON result, the consumed offset committed in the transaction, read_committed input.
 * The library delivers a stream of single records rather than kafkajs' batches, so
 * records are gathered per partition while that partition's previous transaction is
 * under way, and the stream pauses when too many wait.
 *
 * @module
 */
import {
  Consumer,
  FetchIsolationLevels,
  type Message,
  MessagesStreamFallbackModes,
  MessagesStreamModes,
  ProduceAcks,
  Producer,
  stringDeserializers,
  stringSerializers,
} from "@platformatic/kafka";
import { Kafka, logLevel } from "kafkajs";
import type { Throughput } from "./kafkajs.ts";
import { type CpuSpan, selfCpuSpan } from "./process_cpu.ts";
import { finishedWithin } from "./support.ts";

const PER_TRANSACTION = 500;
/**
 * Records waiting across partitions above which the stream pauses, and below which it
 * resumes: about one 10 MB fetch of payment records, what kafkajs holds at most.
 */
const PAUSE_ABOVE = 30_000;
const RESUME_BELOW = 15_000;

type Incoming = Message<string, string, string, string>;

/**
 * Drains `expected` records of `topic` into `resultsTopic`; timed from the first
 * record received to the last commit.
 */
export async function platformaticTransactionalLoop(
  brokers: string[],
  topic: string,
  resultsTopic: string,
  expected: number,
  timeoutMs = 300_000,
): Promise<Throughput> {
  const groupId = `bench-plt-eos-${crypto.randomUUID().slice(0, 8)}`;
  const consumer = new Consumer({
    clientId: "bench-plt-eos",
    groupId,
    bootstrapBrokers: brokers,
    deserializers: stringDeserializers,
    autocommit: false,
    isolationLevel: FetchIsolationLevels.READ_COMMITTED,
    maxWaitTime: 100,
    // kafkajs' fetch defaults: every partition gets some of each fetch. The library's
    // default lets one partition fill a whole 50 MB fetch while the others wait.
    maxBytes: 10 * 1024 * 1024,
    maxBytesPerPartition: 1024 * 1024,
    sessionTimeout: 30_000,
  });
  const producers = new Map<number, Producer<string, string, string, string>>();
  const producerFor = (partition: number) => {
    let producer = producers.get(partition);
    if (!producer) {
      producer = new Producer({
        clientId: "bench-plt-eos",
        bootstrapBrokers: brokers,
        serializers: stringSerializers,
        idempotent: true,
        transactionalId: `${groupId}.${partition}`,
        acks: ProduceAcks.ALL,
        // The worker's retry policy; the library's default waits 1 s before a retry,
        // which a CONCURRENT_TRANSACTIONS answer after every commit would cost.
        retries: 10,
        retryDelay: 20,
      });
      producers.set(partition, producer);
    }
    return producer;
  };

  let count = 0;
  let first = 0;
  let last = 0;
  let cpu: ReturnType<typeof selfCpuSpan> | undefined;
  let cpuUsed: Promise<CpuSpan> | undefined;
  let failed: ((error: Error) => void) | undefined;
  let done!: () => void;
  const finished = new Promise<void>((resolve, reject) => {
    done = resolve;
    failed = reject;
  });
  const waiting = new Map<number, Incoming[]>();
  const busy = new Set<number>();
  let waitingTotal = 0;

  const stream = await consumer.consume({
    topics: [topic],
    mode: MessagesStreamModes.COMMITTED,
    fallbackMode: MessagesStreamFallbackModes.EARLIEST,
  });
  const transact = async (partition: number, chunk: Incoming[]) => {
    const transaction = await producerFor(partition).beginTransaction();
    await transaction.send({
      messages: chunk.map((message) => ({
        topic: resultsTopic,
        key: message.key,
        value: JSON.stringify({
          payment_id: (JSON.parse(message.value) as { payment_id: string }).payment_id,
          outcome: "APPROVED",
        }),
        partition,
      })),
    });
    await transaction.addConsumer(consumer);
    await transaction.addOffset(chunk.at(-1)!);
    await transaction.commit();
  };
  // One transaction at a time per partition: what arrives meanwhile waits for the next.
  const drain = (partition: number) => {
    const queue = waiting.get(partition);
    if (busy.has(partition) || !queue?.length) return;
    const chunk = queue.splice(0, PER_TRANSACTION);
    busy.add(partition);
    transact(partition, chunk).then(() => {
      busy.delete(partition);
      count += chunk.length;
      waitingTotal -= chunk.length;
      if (stream.isPaused() && waitingTotal < RESUME_BELOW) stream.resume();
      if (count >= expected && last === 0) {
        last = performance.now();
        cpuUsed = cpu?.stop();
        done();
      }
      drain(partition);
    }, (error: Error) => failed?.(error));
  };
  stream.on("data", (message: Incoming) => {
    if (first === 0) {
      first = performance.now();
      cpu = selfCpuSpan();
    }
    const queue = waiting.get(message.partition) ?? [];
    waiting.set(message.partition, queue);
    queue.push(message);
    waitingTotal += 1;
    if (waitingTotal > PAUSE_ABOVE) stream.pause();
    // Deferred, so the records of one fetch response gather into one transaction.
    if (queue.length === 1) setTimeout(() => drain(message.partition), 0);
  });
  stream.on("error", (error: Error) => failed?.(error));
  try {
    await finishedWithin(
      finished,
      timeoutMs,
      () => `@platformatic/kafka transactional loop answered ${count} of ${expected}`,
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
    await stream.close().catch(() => {});
    await consumer.close(true).catch(() => {});
    await Promise.all([...producers.values()].map((p) => p.close().catch(() => {})));
    const admin = new Kafka({ clientId: "bench-plt-eos", brokers, logLevel: logLevel.NOTHING })
      .admin();
    await admin.connect().then(() => admin.deleteGroups([groupId])).catch(() => {});
    await admin.disconnect().catch(() => {});
  }
}
