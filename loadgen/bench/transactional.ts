/**
 * The ceiling that fits the worker: a bare kafkajs consume-transform-produce loop on
 * the same records, doing what the worker must and nothing more. One transactional
 * producer per input partition; each `eachBatch` cut into transactions of at most
 * 500 records; every record parsed and answered with a small JSON result; then
 * `sendOffsets` and `commit`. No validation, metrics, logs or state. The CPU this
 * process used from the first fetched batch to the last commit comes with the rate.
 *
 * @module
 */
import { Kafka, logLevel, Partitioners, type Producer } from "kafkajs";
import type { Throughput } from "./kafkajs.ts";
import { type CpuSpan, selfCpuSpan } from "./process_cpu.ts";
import { finishedWithin } from "./support.ts";

const PER_TRANSACTION = 500;

/**
 * Drains `expected` records of `topic` into `resultsTopic` with one transaction per
 * (at most) 500 records; timed from the first fetched batch to the last commit.
 */
export async function bareTransactionalLoop(
  brokers: string[],
  topic: string,
  resultsTopic: string,
  expected: number,
  timeoutMs = 300_000,
): Promise<Throughput> {
  const kafka = new Kafka({ clientId: "bench-bare-eos", brokers, logLevel: logLevel.NOTHING });
  const groupId = `bench-bare-eos-${crypto.randomUUID().slice(0, 8)}`;
  const consumer = kafka.consumer({
    groupId,
    sessionTimeout: 30_000,
    maxWaitTimeInMs: 100,
    readUncommitted: false,
  });
  const producers = new Map<number, Promise<Producer>>();
  // The same retry policy as the worker's transactional producers.
  const producerFor = (partition: number) => {
    let producer = producers.get(partition);
    if (!producer) {
      producer = (async () => {
        const p = kafka.producer({
          transactionalId: `${groupId}.${partition}`,
          idempotent: true,
          maxInFlightRequests: 1,
          retry: { initialRetryTime: 20, retries: 10 },
          createPartitioner: Partitioners.DefaultPartitioner,
        });
        await p.connect();
        return p;
      })();
      producers.set(partition, producer);
    }
    return producer;
  };
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
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 6,
      eachBatch: async ({ batch, resolveOffset, heartbeat }) => {
        if (first === 0) {
          first = performance.now();
          cpu = selfCpuSpan();
        }
        const producer = await producerFor(batch.partition);
        for (let i = 0; i < batch.messages.length; i += PER_TRANSACTION) {
          const chunk = batch.messages.slice(i, i + PER_TRANSACTION);
          const transaction = await producer.transaction();
          await transaction.send({
            topic: resultsTopic,
            acks: -1,
            messages: chunk.map((message) => {
              const payment = JSON.parse(message.value!.toString()) as { payment_id: string };
              return {
                key: message.key,
                value: JSON.stringify({ payment_id: payment.payment_id, outcome: "APPROVED" }),
                partition: batch.partition,
              };
            }),
          });
          const next = String(Number(chunk.at(-1)!.offset) + 1);
          await transaction.sendOffsets({
            consumerGroupId: groupId,
            topics: [{ topic, partitions: [{ partition: batch.partition, offset: next }] }],
          });
          await transaction.commit();
          resolveOffset(chunk.at(-1)!.offset);
          count += chunk.length;
          await heartbeat();
        }
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
      () => `bare transactional loop answered ${count} of ${expected}`,
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
    await Promise.all(
      [...producers.values()].map(async (p) => (await p).disconnect().catch(() => {})),
    );
    const admin = kafka.admin();
    await admin.connect().then(() => admin.deleteGroups([groupId])).catch(() => {});
    await admin.disconnect().catch(() => {});
  }
}
