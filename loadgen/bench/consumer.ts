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
import { cpuRatioToPeer } from "./loops.ts";
import { observePipelineDrain } from "./pipeline_drain.ts";
import { microsPerRecord, procCpuClock } from "./process_cpu.ts";
import { readTopic } from "./topic_read.ts";
import { ratioTarget, throughputRow } from "./table.ts";

/** Records (and transaction markers) the worker wrote per input, over every topic it writes. */
async function writtenPerInput(ctx: BenchContext, topics: TopicNames, inputs: number) {
  let records = 0;
  let offsets = 0;
  for (
    const topic of [topics.results, topics.decisions, topics.byCustomer, topics.customerDecisions]
  ) {
    records += (await readTopic(ctx.brokers, topic, { expected: 1, stallMs: 3000 })).length;
    offsets += await recordsHeld(ctx.brokers, topic);
  }
  return { records: records / inputs, markers: (offsets - records) / inputs };
}

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
    // From the first committed progress to the last decision, so the group join and
    // start-up are not counted (the bare loop is timed the same way).
    const drain = await observePipelineDrain({
      brokers: ctx.brokers,
      groupId,
      topics: drainTopics,
      expected,
      cpus: [procCpuClock(consumer.pid)],
      urls: [consumer.url],
      failure: () => consumer.hasExited ? `the consumer exited:\n${consumer.tail(15)}` : undefined,
    });
    const cpuMicros = microsPerRecord(drain.cpu[0]!.cpuSeconds, drain.records);
    const peer = cpuRatioToPeer(cpuMicros, ceilings.streamsPeer?.cpuMicrosPerRecord);
    const row = throughputRow({
      group: "consumer",
      name: "consumer draining a pre-filled topic (both stages)",
      value: drain.recordsPerSec,
      unit: "rec/s",
      ...(ceilings.bareTransactional
        ? { ceiling: { name: "bare transactional loop", value: ceilings.bareTransactional } }
        : {}),
      rssMiB: await rss([undefined, consumer]),
      cpuMicrosPerRecord: cpuMicros,
      writtenPerInput: await writtenPerInput(ctx, drainTopics, expected),
      note: `${expected} records; committed offsets of both stages polled every 100 ms` +
        (ceilings.bareLoop
          ? `; ${
            Math.round((drain.recordsPerSec / ceilings.bareLoop) * 100)
          }% of the bare eachBatch loop`
          : "") +
        (peer ? `; ${peer}` : ""),
    });
    row.target = ratioTarget(row.ratio, 0.5, "bare transactional loop");
    ctx.rows.push(row);
  });
}
