/**
 * The `producer` rows of `deno task bench`: our producer alone over HTTP, single-payment
 * latency at 200 req/s and throughput at batch 1, 10 and 100 and a few concurrencies,
 * each as a ratio to the bare kafkajs producer at the same batch size.
 *
 * @module
 */
import { freePort } from "@payments/kafka/ports";
import { startService } from "@payments/stack/services";
import { runLoad } from "../run.ts";
import { type BenchContext, guarded, ms, rss } from "./context.ts";
import { loadOptions } from "./support.ts";
import { type BenchRow, latencyTarget, ratioTarget, throughputRow } from "./table.ts";

/** Measures the producer, pushing its rows onto `ctx.rows`; `bareRate` from the ceilings. */
export async function producerRows(ctx: BenchContext, bareRate: Map<number, number>) {
  const topics = await ctx.topicsFor("bench-http");
  ctx.log("starting the producer");
  await using producer = await startService("producer", {
    port: freePort("127.0.0.1"),
    brokers: ctx.brokers,
    topics,
    env: ctx.serviceEnv.producer,
  });
  await guarded(ctx, "producer", "HTTP single-payment latency at 200 req/s", async () => {
    ctx.log("HTTP single payments at 200 req/s (open model)");
    const shape = { url: producer.url, rate: 200, batchSize: 1, concurrency: 64 };
    await runLoad(loadOptions({ ...shape, durationMs: ctx.plan.warmupMs }));
    const report = await runLoad(loadOptions({ ...shape, durationMs: ctx.plan.httpMs }));
    const row: BenchRow = {
      group: "producer",
      name: "HTTP request latency p99, 200 req/s, batch 1 (producer alone)",
      value: report.latencyMs.p99,
      unit: "ms",
      rssMiB: await rss([producer]),
      note: `p50 ${ms(report.latencyMs.p50)}, p99.9 ${ms(report.latencyMs.p999)}, max ` +
        `${ms(report.latencyMs.max)}; ${report.pacing.kept ? "rate kept" : "rate NOT kept"}`,
    };
    row.target = latencyTarget("p99", row.value, 15);
    ctx.rows.push(row);
  });
  for (const { batch, concurrency } of ctx.plan.http) {
    const name = `HTTP producer, batch ${batch}, concurrency ${concurrency}`;
    await guarded(ctx, "producer", name, async () => {
      ctx.log(name);
      const shape = { url: producer.url, batchSize: batch, concurrency };
      await runLoad(loadOptions({ ...shape, durationMs: ctx.plan.warmupMs }));
      const report = await runLoad(loadOptions({ ...shape, durationMs: ctx.plan.httpMs }));
      const bare = bareRate.get(batch);
      const row = throughputRow({
        group: "producer",
        name,
        value: report.rates.accepted,
        unit: "payments/s",
        ...(bare ? { ceiling: { name: `bare kafkajs batch ${batch}`, value: bare } } : {}),
        rssMiB: await rss([producer]),
        note: `p50 ${ms(report.latencyMs.p50)}, p99 ${ms(report.latencyMs.p99)} per request; ` +
          `${report.payments.errors} errors`,
      });
      if (batch === 100) row.target = ratioTarget(row.ratio, 0.7, "bare kafkajs");
      ctx.rows.push(row);
    });
  }
}
