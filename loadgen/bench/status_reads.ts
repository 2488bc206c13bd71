/**
 * The `status` rows of `deno task bench`: `GET /payments/{id}` against decided payments
 * with the consumer running (p99 at 500 requests/s, target < 10 ms), and the consumer's
 * drain rate with and without those reads.
 *
 * Each drain is a fresh topic set pre-filled with `drainRecords` payment records and a
 * consumer in a fresh group, timed from its first decision to its last (the group's
 * committed offsets on the repartition topic: a payment is decided once its forward is
 * committed), with the producer running in both. Runs alternate, without reads then
 * with, `pairs` times, because neighbours on a shared machine drift over a minute. The
 * reads during a drain ask for random ids of the records being drained (decided or
 * not yet); once the last drain with reads is over, every id is decided and the
 * latency row reads them.
 *
 * @module
 */
import { freePort } from "@payments/kafka/ports";
import { startService } from "@payments/stack/services";
import { type BenchContext, guarded, ms, rss } from "./context.ts";
import { type Drain, observeDrain } from "./drain.ts";
import { bareProduce, paymentRecords } from "./kafkajs.ts";
import { microsPerRecord, procCpuClock } from "./process_cpu.ts";
import { readStatusesAt, type StatusLoad } from "./status_load.ts";
import { type BenchRow, latencyTarget, ratioTarget, throughputRow } from "./table.ts";

/** One drain, with reads or not. */
interface DrainRun {
  drain: Drain;
  reads?: StatusLoad;
  ids: string[];
  producerUrl: string;
}

const answersText = (load: StatusLoad) =>
  Object.entries(load.answers).sort().map(([status, n]) => `${n} ${status}`).join(", ");

const pacingText = (load: StatusLoad) =>
  load.pacing.kept ? "rate kept" : `rate NOT kept (${Math.round(load.pacing.sentRate)}/s sent)`;

/** Measures status reads, pushing the rows onto `ctx.rows`. */
export async function statusReadRows(ctx: BenchContext) {
  const { rate, pairs } = ctx.plan.statusReads;
  const runs: { without: DrainRun[]; with: DrainRun[] } = { without: [], with: [] };

  /** Drains a fresh pre-filled topic set; reads at `rate` meanwhile when `reads`. */
  const drainOnce = async (reads: boolean, run: number, last: boolean): Promise<DrainRun> => {
    const topics = await ctx.topicsFor("bench-status");
    const groupId = `bench-status-${crypto.randomUUID().slice(0, 8)}`;
    const records = paymentRecords(ctx.plan.drainRecords, 40 + run, `status${run}`);
    await bareProduce(ctx.brokers, topics.requests, records, 100, 8);
    const ids = records.map((r) => String(r.key));
    await using producer = await startService("producer", {
      port: freePort("127.0.0.1"),
      brokers: ctx.brokers,
      topics,
      groupId,
      env: ctx.serviceEnv.producer,
    });
    await using consumer = await startService("consumer", {
      port: freePort("127.0.0.1"),
      brokers: ctx.brokers,
      topics,
      groupId,
      env: ctx.serviceEnv.consumer,
    });
    const stop = new AbortController();
    const reading = reads
      ? readStatusesAt({ url: producer.url, ids, rate, signal: stop.signal, seed: run })
      : undefined;
    try {
      const drain = await observeDrain({
        brokers: ctx.brokers,
        groupId,
        topic: topics.byCustomer,
        expected: records.length,
        cpu: procCpuClock(consumer.pid),
        failure: () =>
          consumer.hasExited ? `the consumer exited:\n${consumer.tail(15)}` : undefined,
      });
      stop.abort();
      const load = await reading;
      if (last) {
        // The last drain's payments are all decided: the latency row reads them.
        await latencyRow(ctx, { drain, ids, producerUrl: producer.url }, [producer, consumer]);
      }
      return { drain, ids, producerUrl: producer.url, ...(load ? { reads: load } : {}) };
    } finally {
      stop.abort();
      await reading?.catch(() => {});
    }
  };

  await guarded(ctx, "status", "consumer drain with and without status reads", async () => {
    for (let run = 0; run < pairs; run++) {
      ctx.log(`status reads: drain ${run + 1}/${pairs} without reads`);
      runs.without.push(await drainOnce(false, 2 * run, false));
      ctx.log(`status reads: drain ${run + 1}/${pairs} with ${rate} reads/s`);
      runs.with.push(await drainOnce(true, 2 * run + 1, run === pairs - 1));
    }
    const mean = (list: DrainRun[]) =>
      list.reduce((sum, r) => sum + r.drain.recordsPerSec, 0) / list.length;
    const each = (list: DrainRun[]) =>
      list.map((r) => Math.round(r.drain.recordsPerSec).toLocaleString("en-US")).join(", ");
    const cpu = (list: DrainRun[]) => {
      const spans = list.filter((r) => r.drain.cpu);
      const seconds = spans.reduce((s, r) => s + r.drain.cpu!.cpuSeconds, 0);
      const records = spans.reduce((s, r) => s + r.drain.records, 0);
      return records > 0 ? { cpuMicrosPerRecord: microsPerRecord(seconds, records) } : {};
    };
    const without = mean(runs.without);
    const name = `consumer decisions/s draining ${ctx.plan.drainRecords} records`;
    ctx.rows.push(throughputRow({
      group: "status",
      name: `${name}, no status reads`,
      value: without,
      unit: "rec/s",
      ...cpu(runs.without),
      note: `mean of ${pairs} runs (${each(runs.without)}), alternating with the reads row; ` +
        "producer running, idle",
    }));
    const during = runs.with.map((r) => r.reads!);
    const row = throughputRow({
      group: "status",
      name: `${name}, GET /payments/{id} at ${rate}/s meanwhile`,
      value: mean(runs.with),
      unit: "rec/s",
      ceiling: { name: "the same drain without reads", value: without },
      ...cpu(runs.with),
      note: `mean of ${pairs} runs (${each(runs.with)}); reads during the drains: p50 ` +
        `${during.map((l) => ms(l.latency.p50)).join(" / ")}, p99 ` +
        `${during.map((l) => ms(l.latency.p99)).join(" / ")}; ` +
        `${during.map(answersText).join(" / ")}; ${during.map(pacingText).join(" / ")}`,
    });
    row.target = ratioTarget(row.ratio, 0.95, "the drain without reads");
    ctx.rows.push(row);
  });
}

/** The p99 of reads of decided payments at `rate`, after a warm-up of the same shape. */
async function latencyRow(
  ctx: BenchContext,
  run: Omit<DrainRun, "reads">,
  services: Parameters<typeof rss>[0],
) {
  const { rate } = ctx.plan.statusReads;
  const shape = { url: run.producerUrl, ids: run.ids, rate };
  await readStatusesAt({ ...shape, durationMs: ctx.plan.warmupMs });
  const load = await readStatusesAt({ ...shape, durationMs: ctx.plan.e2eMs });
  const decided = load.answers["200"] ?? 0;
  const total = Object.values(load.answers).reduce((a, b) => a + b, 0);
  if (decided !== total) {
    throw new Error(
      `${total - decided} of ${total} reads of decided payments were not 200: ` +
        answersText(load),
    );
  }
  const row: BenchRow = {
    group: "status",
    name: `GET /payments/{id} p99, ${rate}/s, decided payments (consumer running)`,
    value: load.latency.p99,
    unit: "ms",
    rssMiB: await rss(services),
    note: `p50 ${ms(load.latency.p50)}, p99.9 ${ms(load.latency.p999)}, max ` +
      `${ms(load.latency.max)}; ${total} reads, all 200, of ${run.ids.length} payments; ` +
      pacingText(load),
  };
  row.target = latencyTarget("p99", row.value, 10);
  ctx.rows.push(row);
}
