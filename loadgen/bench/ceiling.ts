/**
 * The `ceiling` rows of `deno task bench`: what the machine and our client can do at
 * best, with no service in between. Kafka's own ProducerPerformance and
 * ConsumerPerformance with records of our payment size, a bare kafkajs producer at
 * batch 1, 10 and 100 and the bare `@platformatic/kafka` producer beside it, a bare
 * kafkajs `eachBatch` consumer, and the consume-transform-produce loops (`loops.ts`:
 * kafkajs, the worker's ceiling; `@platformatic/kafka`; the Kafka Streams peer). The
 * producer and consumer rows are ratios to these, so they run whenever one of those
 * sections does; the batch-100 run pre-fills the topic that every loop and the
 * consumer section drain.
 *
 * @module
 */
import type { TopicNames } from "@payments/shared/topics";
import { type BenchContext, guarded } from "./context.ts";
import {
  consumerPerformance,
  KAFKA_LIB_DIR,
  kafkaToolsAvailable,
  producerPerformance,
} from "./kafka_tools.ts";
import { bareConsume, bareProduce, paymentRecords, type Throughput } from "./kafkajs.ts";
import { loopRows } from "./loops.ts";
import { platformaticProducerRows } from "./platformatic_rows.ts";
import { microsPerRecord } from "./process_cpu.ts";
import { throughputRow } from "./table.ts";

/** What the ceiling rows measured, for the ratios of the producer and consumer rows. */
export interface Ceilings {
  /** Bare kafkajs producer records/s by batch size. */
  bareRate: Map<number, number>;
  /** Bare `eachBatch` consumer records/s. */
  bareLoop?: number;
  /** Bare consume-transform-produce loop records/s. */
  bareTransactional?: number;
  /** The Kafka Streams peer: drain rate and the JVM's CPU per record. */
  streamsPeer?: { recordsPerSec: number; cpuMicrosPerRecord?: number };
}

/** Options of {@linkcode ceilingRows}. */
export interface CeilingOptions {
  /** The `ceiling` section itself was asked for: Kafka's own perf tools and the
   * `@platformatic/kafka` producer rows run too, which no other section needs. */
  ceilingSection: boolean;
  /** Run the consume-transform-produce loops (the ceiling or consumer section was asked for). */
  loops: boolean;
  /** The topic the consumer section drains; its requests are pre-filled here. */
  drainTopics: TopicNames;
  /** Bytes of a typical payment record, the size Kafka's perf tools write. */
  recordSize: number;
}

/** Measures the ceilings, pushing their rows onto `ctx.rows`. */
export async function ceilingRows(ctx: BenchContext, options: CeilingOptions): Promise<Ceilings> {
  const ceilings: Ceilings = { bareRate: new Map() };
  const { recordSize } = options;
  const perf = await ctx.topicsFor("bench-perf");
  if (options.ceilingSection) {
    await guarded(ctx, "ceiling", "Kafka ProducerPerformance (acks=all)", async () => {
      if (!await kafkaToolsAvailable()) {
        throw new Error(
          `kafka-tools jar not in ${KAFKA_LIB_DIR}: run \`deno task kafka\` once`,
        );
      }
      ctx.log(`ProducerPerformance: ${ctx.plan.perfRecords} records of ${recordSize} bytes`);
      const r = await producerPerformance(
        ctx.bootstrap,
        perf.requests,
        ctx.plan.perfRecords,
        recordSize,
      );
      ctx.rows.push({
        group: "ceiling",
        name: "Kafka ProducerPerformance (acks=all)",
        value: r.recordsPerSec,
        unit: "rec/s",
        note: `${r.mbPerSec.toFixed(1)} MB/s, p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms`,
      });
      ctx.log("ConsumerPerformance");
      const c = await consumerPerformance(ctx.bootstrap, perf.requests, ctx.plan.perfRecords);
      ctx.rows.push({
        group: "ceiling",
        name: "Kafka ConsumerPerformance",
        value: c.recordsPerSec,
        unit: "rec/s",
        note: `${c.mbPerSec.toFixed(1)} MB/s (fetch rate, group join excluded)`,
      });
    });
  }
  const javaProducer = ctx.rows.find((r) => r.name.startsWith("Kafka ProducerPerformance"));
  const javaConsumer = ctx.rows.find((r) => r.name.startsWith("Kafka ConsumerPerformance"));
  for (const { batch, records } of ctx.plan.bare) {
    const name = `bare kafkajs producer, batch ${batch}, 8 sends in flight`;
    await guarded(ctx, "ceiling", name, async () => {
      ctx.log(name);
      // The batch-100 run doubles as the pre-fill of the drain topic.
      const topic = batch === 100 ? options.drainTopics.requests : perf.results;
      const count = batch === 100 ? ctx.plan.drainRecords : records;
      const t = await bareProduce(
        ctx.brokers,
        topic,
        paymentRecords(count, batch, `bare${batch}`),
        batch,
        8,
      );
      ceilings.bareRate.set(batch, t.recordsPerSec);
      ctx.rows.push(throughputRow({
        group: "ceiling",
        name,
        value: t.recordsPerSec,
        unit: "rec/s",
        ...(javaProducer && !javaProducer.error
          ? { ceiling: { name: "ProducerPerformance", value: javaProducer.value } }
          : {}),
        ...cpuOf(t),
        note: `${t.records} records, idempotent, acks -1`,
      }));
    });
  }
  const perPartition = "bare kafkajs producer, batch 100 split into one send per partition";
  await guarded(ctx, "ceiling", perPartition, async () => {
    ctx.log(perPartition);
    const batch100 = ctx.plan.bare.find((b) => b.batch === 100);
    const t = await bareProduce(
      ctx.brokers,
      perf.results,
      paymentRecords(batch100?.records ?? 30_000, 100, "bare100pp"),
      100,
      8,
      { onePartitionPerSend: true },
    );
    const whole = ceilings.bareRate.get(100);
    ctx.rows.push(throughputRow({
      group: "ceiling",
      name: perPartition,
      value: t.recordsPerSec,
      unit: "rec/s",
      ...(whole ? { ceiling: { name: "bare kafkajs batch 100", value: whole } } : {}),
      ...cpuOf(t),
      note: `${t.records} records; the cost of avoiding kafkajs' retry race in the producer`,
    }));
  });
  if (options.ceilingSection) await platformaticProducerRows(ctx, perf.results, ceilings.bareRate);
  await guarded(ctx, "ceiling", "bare kafkajs eachBatch consumer", async () => {
    ctx.log("bare kafkajs eachBatch consumer");
    const t = await bareConsume(ctx.brokers, options.drainTopics.requests, ctx.plan.drainRecords);
    ceilings.bareLoop = t.recordsPerSec;
    ctx.rows.push(throughputRow({
      group: "ceiling",
      name: "bare kafkajs eachBatch consumer",
      value: t.recordsPerSec,
      unit: "rec/s",
      ...(javaConsumer && !javaConsumer.error
        ? { ceiling: { name: "ConsumerPerformance", value: javaConsumer.value } }
        : {}),
      ...cpuOf(t),
      note: `${t.records} payment records, no work per record`,
    }));
  });
  if (options.loops) await loopRows(ctx, options.drainTopics, ceilings);
  return ceilings;
}

/** The CPU-per-record field of a row measured in this process. */
function cpuOf(t: Throughput) {
  return t.cpuSeconds !== undefined
    ? { cpuMicrosPerRecord: microsPerRecord(t.cpuSeconds, t.records) }
    : {};
}
