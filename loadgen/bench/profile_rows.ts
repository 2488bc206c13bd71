/**
 * `deno task bench --only profile`: where the worker's CPU goes, per payment. One
 * consumer drains pre-filled payments while its V8 CPU profile is taken through the
 * inspector; each row is one place's self time per payment (`cpu_profile.ts` groups
 * the frames by npm package, kafkajs encoding and decoding apart, and by our source
 * file). Sampling adds overhead of its own, so the rows are shares to compare, the
 * drain rows' CPU per record the absolute figure.
 *
 * @module
 */
import { freePort } from "@payments/kafka/ports";
import { type BenchContext, guarded } from "./context.ts";
import { profiler, selfTimes } from "./cpu_profile.ts";
import { startInstances } from "./instances.ts";
import { bareProduce, paymentRecords } from "./kafkajs.ts";
import { observePipelineDrain } from "./pipeline_drain.ts";

/** Places below this share of the CPU are summed into one row. */
const SMALL_SHARE = 0.01;

/** The profile rows. */
export async function profileRows(ctx: BenchContext): Promise<void> {
  await guarded(ctx, "profile", "worker CPU profile", async () => {
    const records = ctx.plan.drainRecords;
    const topics = await ctx.topicsFor("bench-profile");
    const runId = crypto.randomUUID().slice(0, 8);
    const groupId = `bench-profile-${runId}`;
    const inspect = freePort("127.0.0.1");
    await using instances = await startInstances({
      brokers: ctx.brokers,
      topics,
      groupId,
      env: ctx.serviceEnv.consumer,
      denoFlags: [`--inspect=127.0.0.1:${inspect}`],
    }, 1);
    const session = await profiler(inspect);
    await session.start();
    const filling = bareProduce(
      ctx.brokers,
      topics.requests,
      paymentRecords(records, 9, runId),
      500,
      8,
    );
    const drain = await observePipelineDrain({
      brokers: ctx.brokers,
      groupId,
      topics,
      expected: records,
      urls: instances.all.map((i) => i.url),
      failure: () => instances.failure(),
    });
    await filling;
    const times = selfTimes(await session.stop());
    const small = times.filter((t) => t.share < SMALL_SHARE);
    for (const t of times.filter((t) => t.share >= SMALL_SHARE)) {
      ctx.rows.push({
        group: "profile",
        name: t.place,
        value: t.micros / records,
        unit: "µs",
        note: `${
          (t.share * 100).toFixed(1)
        }% of the worker's CPU while it drained ${records} payments at ${
          Math.round(drain.recordsPerSec)
        }/s (sampled)`,
      });
    }
    ctx.rows.push({
      group: "profile",
      name: `${small.length} other places, each < ${SMALL_SHARE * 100}%`,
      value: small.reduce((s, t) => s + t.micros, 0) / records,
      unit: "µs",
      note: small.slice(0, 6).map((t) => t.place).join(", "),
    });
  });
}
