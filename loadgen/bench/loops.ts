/**
 * The consume-transform-produce rows of the `ceiling` section, side by side on the same
 * pre-filled records: the bare kafkajs loop (the worker's ceiling), the same loop on
 * `@platformatic/kafka`, and the Kafka Streams peer. Each row has its drain rate, the
 * CPU its process spent per record over the drain, the records it wrote per input, and
 * a check of its output read back with read_committed (every input exactly one result,
 * and for the peer the outcome its rules give); a run whose check fails is an error row.
 *
 * @module
 */
import type { TopicNames } from "@payments/shared/topics";
import type { Ceilings } from "./ceiling.ts";
import { type BenchContext, guarded } from "./context.ts";
import type { Throughput } from "./kafkajs.ts";
import { checkLoopOutput, type LoopOutput } from "./loop_output.ts";
import { expectedOutcome, PEER_RULES } from "./peer_rules.ts";
import { platformaticTransactionalLoop } from "./platformatic_loop.ts";
import { microsPerRecord } from "./process_cpu.ts";
import { cleanUpStreamsPeer, runStreamsPeer } from "./streams_peer.ts";
import { type BenchRow, throughputRow } from "./table.ts";
import { bareTransactionalLoop } from "./transactional.ts";
import { formatVerdict, type KeyedRecord } from "./verdict.ts";
import { readTopic } from "./topic_read.ts";

/** Row names, also how the CPU ratios find the peer's row. */
export const LOOP_ROWS = {
  kafkajs: "bare kafkajs transactional loop",
  platformatic: "bare @platformatic/kafka transactional loop",
  streams: "Kafka Streams peer (exactly_once_v2, 1 thread, RocksDB store)",
} as const;

const LOOP_SHAPE = "a transactional producer per partition, <= 500 records per transaction, " +
  "JSON in, JSON out, offsets in the transaction";

/** Runs the three loops on `drainTopics.requests`, pushing their rows onto `ctx.rows`. */
export async function loopRows(ctx: BenchContext, drainTopics: TopicNames, ceilings: Ceilings) {
  let inputs: KeyedRecord[] | undefined;
  // Read once, after the first loop, for every check: the records do not change.
  const inputsOnce = async () =>
    inputs ??= await readTopic(ctx.brokers, drainTopics.requests, {
      expected: ctx.plan.drainRecords,
    });
  const requests = drainTopics.requests;
  const expected = ctx.plan.drainRecords;

  await guarded(ctx, "ceiling", LOOP_ROWS.kafkajs, async () => {
    ctx.log("bare kafkajs consume-transform-produce loop");
    const out = await ctx.topicsFor("bench-loop-kafkajs");
    const t = await bareTransactionalLoop(ctx.brokers, requests, out.results, expected);
    const check = await checkLoopOutput(ctx.brokers, {
      inputs: await inputsOnce(),
      resultsTopic: out.results,
    });
    ceilings.bareTransactional = t.recordsPerSec;
    ctx.rows.push(loopRow(LOOP_ROWS.kafkajs, t, check, {
      ...(ceilings.bareLoop
        ? { ceiling: { name: "bare eachBatch", value: ceilings.bareLoop } }
        : {}),
      note: LOOP_SHAPE,
    }));
  });

  await guarded(ctx, "ceiling", LOOP_ROWS.platformatic, async () => {
    ctx.log("bare @platformatic/kafka consume-transform-produce loop");
    const out = await ctx.topicsFor("bench-loop-platformatic");
    const t = await platformaticTransactionalLoop(ctx.brokers, requests, out.results, expected);
    const check = await checkLoopOutput(ctx.brokers, {
      inputs: await inputsOnce(),
      resultsTopic: out.results,
    });
    ctx.rows.push(loopRow(LOOP_ROWS.platformatic, t, check, {
      ...(ceilings.bareTransactional
        ? { ceiling: { name: "bare kafkajs loop", value: ceilings.bareTransactional } }
        : {}),
      note: "the kafkajs loop's shape",
    }));
  });

  await guarded(ctx, "ceiling", LOOP_ROWS.streams, async () => {
    ctx.log("Kafka Streams peer");
    const out = await ctx.topicsFor("bench-loop-streams");
    const all = await inputsOnce();
    const run = await runStreamsPeer({
      brokers: ctx.brokers,
      requestsTopic: requests,
      resultsTopic: out.results,
      expected: all.length,
      log: ctx.log,
    });
    try {
      if (run.drain.records === 0) {
        throw new Error("the peer drained everything within one 100 ms poll: use more records");
      }
      const check = await checkLoopOutput(ctx.brokers, {
        inputs: all,
        resultsTopic: out.results,
        stateTopics: [{ topic: run.changelogTopic, expected: new Set(all.map((r) => r.key)).size }],
        decide: (value) => expectedOutcome(value, PEER_RULES),
      });
      const t: Throughput = {
        records: run.drain.records,
        seconds: run.drain.seconds,
        recordsPerSec: run.drain.recordsPerSec,
        ...(run.drain.cpu ? { cpuSeconds: run.drain.cpu.cpuSeconds } : {}),
      };
      ceilings.streamsPeer = {
        recordsPerSec: t.recordsPerSec,
        ...(t.cpuSeconds !== undefined
          ? { cpuMicrosPerRecord: microsPerRecord(t.cpuSeconds, t.records) }
          : {}),
      };
      ctx.rows.push(loopRow(LOOP_ROWS.streams, t, check, {
        ...(ceilings.bareTransactional
          ? { ceiling: { name: "bare kafkajs loop", value: ceilings.bareTransactional } }
          : {}),
        note: "duplicate, blocked-merchant and amount rules, a PaymentResult-shaped JSON " +
          "result per input, commit.interval.ms 100 (EOS default); rate and JVM CPU " +
          "from its committed offsets polled every 100 ms",
      }));
    } finally {
      await cleanUpStreamsPeer(ctx.brokers, run);
    }
  });

  const peerCpu = ceilings.streamsPeer?.cpuMicrosPerRecord;
  for (const row of ctx.rows) {
    if (row.name === LOOP_ROWS.streams || row.error) continue;
    if (row.name !== LOOP_ROWS.kafkajs && row.name !== LOOP_ROWS.platformatic) continue;
    const ratio = cpuRatioToPeer(row.cpuMicrosPerRecord, peerCpu);
    if (ratio) row.note = `${row.note}; ${ratio}`;
  }
}

/**
 * "CPU per record 0.42x the Kafka Streams peer's" for a row's note; undefined when
 * either figure is missing.
 */
export function cpuRatioToPeer(
  micros: number | undefined,
  peerMicros: number | undefined,
): string | undefined {
  if (!micros || !peerMicros || !Number.isFinite(micros) || !Number.isFinite(peerMicros)) {
    return undefined;
  }
  return `CPU per record ${(micros / peerMicros).toFixed(2)}x the Kafka Streams peer's`;
}

function loopRow(
  name: string,
  t: Throughput,
  check: LoopOutput,
  fields: Pick<BenchRow, "ceiling" | "note">,
): BenchRow {
  if (!check.verdict.ok) {
    throw new Error(`output check failed: ${formatVerdict(check.verdict)}`);
  }
  return throughputRow({
    group: "ceiling",
    name,
    value: t.recordsPerSec,
    unit: "rec/s",
    ...(fields.ceiling ? { ceiling: fields.ceiling } : {}),
    ...(t.cpuSeconds !== undefined
      ? { cpuMicrosPerRecord: microsPerRecord(t.cpuSeconds, t.records) }
      : {}),
    writtenPerInput: check.writtenPerInput,
    note: `${t.records} records in ${t.seconds.toFixed(1)} s; ${fields.note}; ` +
      formatVerdict(check.verdict),
  });
}
