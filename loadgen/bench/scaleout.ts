/**
 * `deno task bench --only scaleout`: one, two and three consumer instances of one
 * group on 12-partition topics draining the same number of pre-filled payments: the
 * drain rate, the CPU per payment of all instances together, each instance's CPU and
 * memory, and the same with standbys off, whose difference is what keeping other
 * instances' stores warm costs. On a machine with fewer cores than instances the rate
 * cannot grow with them; CPU per payment can stay flat, and that is the figure.
 *
 * @module
 */
import type { Ceilings } from "./ceiling.ts";
import { cpuRatioToPeer } from "./loops.ts";
import { procCpuClock } from "./process_cpu.ts";
import { type BenchContext, guarded } from "./context.ts";
import { startInstances } from "./instances.ts";
import { bareProduce, paymentRecords } from "./kafkajs.ts";
import { observePipelineDrain } from "./pipeline_drain.ts";
import type { BenchRow } from "./table.ts";

/** Partitions of the scale-out topics: more than any instance count measured. */
export const SCALEOUT_PARTITIONS = 12;

interface Run {
  instances: number;
  standbys: number;
}

const RUNS: Run[] = [
  { instances: 1, standbys: 1 },
  { instances: 2, standbys: 1 },
  { instances: 3, standbys: 1 },
  { instances: 2, standbys: 0 },
  { instances: 3, standbys: 0 },
];

async function drainWith(ctx: BenchContext, run: Run, records: number) {
  const topics = await ctx.topicsFor(`bench-scaleout-${run.instances}`, SCALEOUT_PARTITIONS);
  const runId = crypto.randomUUID().slice(0, 8);
  const groupId = `bench-scaleout-${runId}`;
  // Every instance is a ready member before the first payment arrives: the first one
  // would otherwise drain on its own while the others join.
  await using instances = await startInstances({
    brokers: ctx.brokers,
    topics,
    groupId,
    env: { ...ctx.serviceEnv.consumer, CONSUMER_STANDBY_REPLICAS: String(run.standbys) },
  }, run.instances);
  const filling = bareProduce(
    ctx.brokers,
    topics.requests,
    paymentRecords(records, 7, runId),
    500,
    8,
  );
  const drain = await observePipelineDrain({
    urls: instances.all.map((i) => i.url),
    brokers: ctx.brokers,
    groupId,
    topics,
    expected: records,
    // The broker's last: what a payment costs Kafka, beside what it costs the instances.
    cpus: [...instances.all, ...(ctx.brokerPid ? [{ pid: ctx.brokerPid }] : [])]
      .map((p) => procCpuClock(p.pid)),
    failure: () => instances.failure(),
  });
  await filling;
  const rss = await Promise.all(instances.all.map((i) => i.rss()));
  const cpu = drain.cpu.slice(0, instances.all.length);
  const broker = ctx.brokerPid ? drain.cpu.at(-1) : undefined;
  return { drain: { ...drain, cpu }, broker, rssMiB: rss.map((b) => (b ?? 0) / (1024 * 1024)) };
}

/** The scale-out rows; `ceilings` (when the ceiling rows ran) gives the Kafka Streams peer's CPU. */
export async function scaleoutRows(ctx: BenchContext, ceilings?: Ceilings): Promise<void> {
  const records = ctx.plan.scaleoutRecords;
  let single: number | undefined;
  for (const run of RUNS) {
    const name = `scale-out: ${run.instances} instance${run.instances > 1 ? "s" : ""}, ` +
      `${SCALEOUT_PARTITIONS} partitions, standbys ${run.standbys}`;
    await guarded(ctx, "scale-out", name, async () => {
      ctx.log(`${name}: draining ${records} payments`);
      const { drain, broker, rssMiB } = await drainWith(ctx, run, records);
      const cpuSeconds = drain.cpu.reduce((s, c) => s + c.cpuSeconds, 0);
      const cpuMicros = (cpuSeconds / drain.records) * 1e6;
      if (run.instances === 1) single = cpuMicros;
      const perInstance = drain.cpu.map((c, i) =>
        `#${i + 1} ${Math.round((c.cpuSeconds / drain.records) * 1e6)} µs/payment, ${
          Math.round(rssMiB[i]!)
        } MiB`
      );
      const row: BenchRow = {
        group: "scale-out",
        name,
        value: drain.recordsPerSec,
        unit: "payments/s",
        cpuMicrosPerRecord: cpuMicros,
        note: `${records} payments in ${drain.seconds.toFixed(1)} s; all instances ` +
          `${Math.round(cpuMicros)} µs CPU/payment; ${perInstance.join("; ")}` +
          (broker
            ? `; the broker ${Math.round((broker.cpuSeconds / drain.records) * 1e6)} µs/payment`
            : "") +
          (cpuRatioToPeer(cpuMicros, ceilings?.streamsPeer?.cpuMicrosPerRecord)
            ? `; ${cpuRatioToPeer(cpuMicros, ceilings?.streamsPeer?.cpuMicrosPerRecord)}`
            : ""),
      };
      if (run.instances === 3 && single !== undefined) {
        row.target = {
          text: `CPU/payment ≤ 1.2x one instance's (${Math.round(single)} µs)`,
          met: cpuMicros <= 1.2 * single,
        };
      }
      ctx.rows.push(row);
    });
  }
}
