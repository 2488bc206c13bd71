/**
 * The `e2e` rows of `deno task bench`: HTTP accept to committed result at fixed offered
 * rates with both services running, every payment verified (`--verify`); at batch 1 also
 * the HTTP latency with the consumer running.
 *
 * @module
 */
import { freePort } from "@payments/kafka/ports";
import { startService } from "@payments/stack/services";
import { runLoad } from "../run.ts";
import { type BenchContext, guarded, ms, rss } from "./context.ts";
import { loadOptions } from "./support.ts";
import { type BenchRow, latencyTarget } from "./table.ts";

/** Measures the pipeline end to end, pushing its rows onto `ctx.rows`. */
export async function e2eRows(ctx: BenchContext) {
  const topics = await ctx.topicsFor("bench-e2e");
  const groupId = `bench-e2e-${crypto.randomUUID().slice(0, 8)}`;
  ctx.log("starting producer and consumer");
  await using producer = await startService("producer", {
    port: freePort("127.0.0.1"),
    brokers: ctx.brokers,
    topics,
    env: ctx.serviceEnv.producer,
  });
  await using consumer = await startService("consumer", {
    port: freePort("127.0.0.1"),
    brokers: ctx.brokers,
    topics,
    groupId,
    env: ctx.serviceEnv.consumer,
  });
  for (const { rate, batch } of ctx.plan.e2e) {
    const label = `${rate}/s, batch ${batch}`;
    await guarded(ctx, "e2e", `end-to-end ${label}`, async () => {
      ctx.log(`end-to-end at ${label}`);
      const shape = { url: producer.url, rate, batchSize: batch, concurrency: 64 };
      await runLoad(loadOptions({ ...shape, durationMs: ctx.plan.warmupMs }));
      const report = await runLoad(loadOptions({
        ...shape,
        durationMs: ctx.plan.e2eMs,
        verify: true,
        brokers: ctx.brokers,
        resultsTopic: topics.results,
      }));
      const memory = await rss([producer, consumer]);
      const v = report.verify!;
      const pacing = report.pacing.kept
        ? "rate kept"
        : `rate NOT kept (${Math.round(report.pacing.sentRate)}/s sent)`;
      if (batch === 1) {
        const row: BenchRow = {
          group: "e2e",
          name: `HTTP request latency p99, ${label} (consumer running)`,
          value: report.latencyMs.p99,
          unit: "ms",
          rssMiB: memory,
          note: `p50 ${ms(report.latencyMs.p50)}, p99.9 ${ms(report.latencyMs.p999)}; ${pacing}`,
        };
        if (rate === 200) row.target = latencyTarget("p99", row.value, 15);
        ctx.rows.push(row);
      }
      const row: BenchRow = {
        group: "e2e",
        name: `end-to-end p99, ${label}`,
        value: v.endToEnd.p99,
        unit: "ms",
        rssMiB: memory,
        note: `p50 ${ms(v.endToEnd.p50)}, max ${ms(v.endToEnd.max)}; visible to a ` +
          `read_committed reader p50 ${ms(v.visible.p50)}, p99 ${ms(v.visible.p99)}; ` +
          `${v.missing} missing, ` +
          `${v.doubleApprovals} double approvals; ${pacing}`,
      };
      if (rate === 1000) row.target = latencyTarget("p99", row.value, 100);
      if (rate === 5000) row.target = latencyTarget("p99", row.value, 150);
      ctx.rows.push(row);
    });
  }
}
