/**
 * The `consumer` row of `deno task bench`: our consumer draining the topic the ceiling
 * rows pre-filled, as a ratio to the bare consume-transform-produce loop, timed from its
 * first committed progress so the group join and start-up are not counted.
 *
 * @module
 */
import type { TopicNames } from "@payments/shared/topics";
import { freePort } from "@payments/kafka/ports";
import { startService } from "@payments/stack/services";
import { recordsHeld } from "@payments/stack/topics";
import type { Ceilings } from "./ceiling.ts";
import { type BenchContext, guarded, rss } from "./context.ts";
import { committed } from "./support.ts";
import { ratioTarget, throughputRow } from "./table.ts";

/** Measures the consumer on `drainTopics`, pushing its row onto `ctx.rows`. */
export async function consumerRows(
  ctx: BenchContext,
  drainTopics: TopicNames,
  ceilings: Ceilings,
) {
  await guarded(ctx, "consumer", "consumer draining a pre-filled topic", async () => {
    const expected = await recordsHeld(ctx.brokers, drainTopics.requests);
    if (expected === 0) {
      throw new Error("the drain topic is empty: run the ceiling section first");
    }
    const groupId = `bench-worker-${crypto.randomUUID().slice(0, 8)}`;
    ctx.log(`consumer draining ${expected} records`);
    await using consumer = await startService("consumer", {
      port: freePort("127.0.0.1"),
      brokers: ctx.brokers,
      topics: drainTopics,
      groupId,
      env: ctx.serviceEnv.consumer,
    });
    // Time from the first observed progress to the end, so the group join and
    // start-up are not counted (the bare loop is timed the same way).
    let first: { at: number; done: number } | undefined;
    let last = { at: performance.now(), done: 0 };
    let progressAt = performance.now();
    while (last.done < expected) {
      if (performance.now() - progressAt > 60_000) {
        throw new Error(
          `drained ${last.done} of ${expected}, no progress for 60 s; consumer output:\n` +
            consumer.tail(15),
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
      const before = last.done;
      last = {
        at: performance.now(),
        done: await committed(ctx.brokers, groupId, drainTopics.requests),
      };
      if (last.done > before) progressAt = last.at;
      if (!first && last.done > 0) first = last;
    }
    const rate = first && last.at > first.at
      ? (last.done - first.done) / ((last.at - first.at) / 1000)
      : 0;
    const row = throughputRow({
      group: "consumer",
      name: "consumer draining a pre-filled topic",
      value: rate,
      unit: "rec/s",
      ...(ceilings.bareTransactional
        ? { ceiling: { name: "bare transactional loop", value: ceilings.bareTransactional } }
        : {}),
      rssMiB: await rss([undefined, consumer]),
      note: `${expected} records; committed offsets polled every 100 ms` +
        (ceilings.bareLoop
          ? `; ${Math.round((rate / ceilings.bareLoop) * 100)}% of the bare eachBatch loop`
          : ""),
    });
    row.target = ratioTarget(row.ratio, 0.7, "bare transactional loop");
    ctx.rows.push(row);
  });
}
