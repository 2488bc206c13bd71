/**
 * Two rows of `deno task bench --only restart` about the cost of state right after it
 * grew, where the single-stage consumer was slowest:
 * - restart right after a burst: payments from distinct customers drained, the
 *   consumer stopped with SIGTERM and started again at once (every decision inside the
 *   velocity window), then the time to its first new result, beside a quiet restart
 *   of the same consumer;
 * - hand-over: two instances share 12 partitions with a history of decisions in the
 *   changelogs; one is stopped with SIGTERM and the other is timed to a result on
 *   every partition, each task it took over timed in its own log line (from its
 *   standby's checkpoint); one row per history size, flat if the hand-over does not
 *   grow with the history.
 *
 * @module
 */
import { Kafka, logLevel } from "kafkajs";
import { claimRecord } from "@payments/consumer/claim_records";
import type { ServiceProcess } from "@payments/stack/services";
import type { TopicNames } from "@payments/shared/topics";
import type { BenchContext } from "./context.ts";
import { markStopped, startInstances } from "./instances.ts";
import { bareProduce, paymentRecords } from "./kafkajs.ts";
import { observePipelineDrain } from "./pipeline_drain.ts";
import { SCALEOUT_PARTITIONS } from "./scaleout.ts";
import type { BenchRow } from "./table.ts";

/** One new payment per partition of `topics.requests`, and the time until every one has its result. */
export async function resultsOnEveryPartition(
  brokers: string[],
  topics: TopicNames,
  partitions: number,
  started: number,
): Promise<number> {
  const kafka = new Kafka({ clientId: "bench-handover", brokers, logLevel: logLevel.NOTHING });
  const runId = crypto.randomUUID().slice(0, 8);
  const records = paymentRecords(partitions, 11, runId).map((r, partition) => ({
    ...r,
    partition,
  }));
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  await producer.send({ topic: topics.requests, acks: -1, messages: records });
  await producer.disconnect();
  const ids = new Set(records.map((r) => String(r.key)));
  const consumer = kafka.consumer({ groupId: `bench-handover-reader-${runId}` });
  let resolve!: (ms: number) => void;
  const done = new Promise<number>((r) => resolve = r);
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topics.results], fromBeginning: true });
    await consumer.run({
      eachMessage: ({ message }) => {
        ids.delete(String(message.key));
        if (ids.size === 0) resolve(performance.now() - started);
        return Promise.resolve();
      },
    });
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      return await Promise.race([
        done,
        new Promise<never>((_, reject) =>
          timer = setTimeout(
            () => reject(new Error(`${ids.size} partitions without a result after 120 s`)),
            120_000,
          )
        ),
      ]);
    } finally {
      clearTimeout(timer);
    }
  } finally {
    await consumer.disconnect();
  }
}

/** Milliseconds from starting a consumer (on `dir`) to a result on every partition. */
async function restartTime(ctx: BenchContext, topics: TopicNames, groupId: string, dir: string) {
  const started = performance.now();
  await using instances = await startInstances(
    {
      brokers: ctx.brokers,
      topics,
      groupId,
      env: { ...ctx.serviceEnv.consumer, LOG_LEVEL: "info" },
    },
    0,
  );
  const consumer = await instances.add(dir);
  const ms = await resultsOnEveryPartition(ctx.brokers, topics, 6, started);
  return { ms, lines: consumer.lines() };
}

/** The "restart right after a burst" row and the quiet restart beside it. */
export async function burstRestartRows(ctx: BenchContext): Promise<BenchRow[]> {
  const records = ctx.plan.burstRecords;
  const topics = await ctx.topicsFor("bench-burst");
  const runId = crypto.randomUUID().slice(0, 8);
  // Distinct customers, as in the measurement: every decision is a velocity row.
  const burst = paymentRecords(records, 5, runId).map((r, i) => {
    const value = JSON.parse(String(r.value));
    return { ...r, value: JSON.stringify({ ...value, customer_id: `BURST-${runId}-${i}` }) };
  });
  await bareProduce(ctx.brokers, topics.requests, burst, 500, 8);
  const groupId = `bench-burst-${runId}`;
  const dir = await Deno.makeTempDir({ prefix: "bench-burst-" });
  try {
    {
      await using instances = await startInstances(
        { brokers: ctx.brokers, topics, groupId, env: ctx.serviceEnv.consumer },
        0,
      );
      const consumer = await instances.add(dir);
      await consumer.waitReady(180_000);
      ctx.log(`restart after a burst: draining ${records} payments`);
      await observePipelineDrain({
        brokers: ctx.brokers,
        groupId,
        topics,
        urls: [consumer.url],
        expected: records,
        failure: () => instances.failure(),
      });
    }
    ctx.log("restart after a burst: restarting at once");
    const afterBurst = await restartTime(ctx, topics, groupId, dir);
    ctx.log("restart after a burst: a quiet restart");
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const quiet = await restartTime(ctx, topics, groupId, dir);
    const ratio = afterBurst.ms / quiet.ms;
    // kafkajs logs this when a request's answer came after the request timed out, which a
    // blocked event loop causes (the single-stage consumer's restart after a burst did).
    const unmatched = afterBurst.lines.filter((l) => l.includes("Response without match")).length;
    return [
      {
        group: "restart",
        name: `restart right after a burst of ${records.toLocaleString("en-US")} decisions`,
        value: afterBurst.ms,
        unit: "ms",
        note: `to a result on each of 6 partitions; a quiet restart: ${
          Math.round(quiet.ms)
        } ms (ratio ${ratio.toFixed(2)}); ${unmatched} "Response without match" lines; ${
          restoreSummary(afterBurst.lines)
        }`,
        target: { text: "≤ 3x the quiet restart", met: ratio <= 3 },
      },
    ];
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/** "Task ... ready" lines: how many tasks, the slowest, changelog records read. */
function readyLines(lines: string[]) {
  return lines
    .filter((l) => l.includes('"message":"Task ') && l.includes(" ready in "))
    .map((l) =>
      JSON.parse(l) as {
        task: string;
        ready_ms: number;
        fence_ms: number;
        open_ms: number;
        changelog_ms: number;
        records: number;
        kind: string;
      }
    );
}

function restoreSummary(lines: string[]): string {
  const ready = readyLines(lines);
  if (ready.length === 0) return "no task ready line";
  const slowest = ready.reduce((a, b) => (b.ready_ms > a.ready_ms ? b : a));
  return `${ready.length} tasks ready, slowest ${slowest.task} in ${slowest.ready_ms} ms (fence ${slowest.fence_ms}, store ${slowest.open_ms}, changelog ${slowest.changelog_ms} ms for ${slowest.records} records)`;
}

/** Milliseconds after the SIGTERM at which the survivor logged each step of the hand-over. */
interface HandoverTimeline {
  heard?: number;
  assigned?: number;
  ready?: number;
}

/**
 * Where a hand-over's time went, from the survivor's own log lines: when it heard of
 * the rebalance (its next heartbeat: the group protocol's part, 0-1.5 s whatever the
 * history), when it was assigned the moved tasks, when the last of them was ready; the
 * rest, to the results, is their first transactions.
 */
function handoverTimeline(lines: string[], moved: string[], stoppedAtMs: number): HandoverTimeline {
  const parsed = lines.flatMap((l) => {
    try {
      return [JSON.parse(l) as { timestamp: string; message: string; task?: string }];
    } catch {
      return [];
    }
  });
  const after = (found: { timestamp: string } | undefined) =>
    found ? Date.parse(found.timestamp) - stoppedAtMs : undefined;
  return {
    heard: after(parsed.find((l) => l.message.includes(" is rebalancing"))),
    assigned: after(parsed.find((l) => l.message.startsWith("Rebalance: assigned"))),
    ready: after(
      parsed.filter((l) =>
        l.message.startsWith("Task ") && l.message.includes(" ready in ") &&
        moved.includes(l.task ?? "")
      ).at(-1),
    ),
  };
}

function describeTimeline({ heard, assigned, ready }: HandoverTimeline): string {
  const ms = (value?: number) => value === undefined ? "not logged" : `${value} ms`;
  return `the survivor heard of the rebalance after ${ms(heard)}, was assigned after ${
    ms(assigned)
  }, had the moved tasks ready after ${ms(ready)}`;
}

/** `count` claims written straight to the payment tasks' changelog. */
async function writeHistory(ctx: BenchContext, topics: TopicNames, count: number) {
  const now = Date.now();
  const runId = crypto.randomUUID().slice(0, 8);
  const messages = [];
  for (let i = 0; i < count; i++) {
    const record = claimRecord({
      paymentId: `HIST-${runId}-${i}`,
      customerId: `C-${i % 5000}`,
      createdAtMs: now - 3_600_000,
      claimedAtMs: now - 3_600_000,
      inputPartition: i % SCALEOUT_PARTITIONS,
      // Claimed from another input topic: no offset of this one is answered by it.
      inputOffset: -1,
      correlationId: `corr-${i}`,
      duplicates: 0,
    }, topics.decisions);
    messages.push({
      key: record.key as string,
      value: record.value as string,
      partition: record.partition,
    });
  }
  // One send at a time: kafkajs' idempotent producer can number concurrent sends to one
  // partition out of order (tulios/kafkajs#598), which failed about one run in three here.
  await bareProduce(ctx.brokers, topics.decisions, messages, 500, 1);
}

/** Standbys of `a`'s tasks kept current on `b`: its /ready lists them. */
async function standbysCaughtUp(b: ServiceProcess, tasks: string[]) {
  const deadline = performance.now() + 600_000;
  while (performance.now() < deadline) {
    const body = await (await fetch(`${b.url}/ready`)).json() as { standby_tasks: string[] };
    const metrics = await (await fetch(`${b.url}/metrics`)).text();
    const lagging = [...metrics.matchAll(/^consumer_standby_lag_records\{[^}]*\} (\d+)/gm)]
      .some((m) => Number(m[1]) > 0);
    if (tasks.every((t) => body.standby_tasks.includes(t)) && !lagging) return;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error("the standbys did not catch up within 10 minutes");
}

/** The hand-over rows, one per history size. */
export async function handoverRows(ctx: BenchContext): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  let smallest: number | undefined;
  for (const size of ctx.plan.handoverSizes) {
    const topics = await ctx.topicsFor(`bench-handover-${size}`, SCALEOUT_PARTITIONS);
    ctx.log(`hand-over: writing ${size} decisions`);
    await writeHistory(ctx, topics, size);
    const groupId = `bench-handover-${crypto.randomUUID().slice(0, 8)}`;
    await using instances = await startInstances(
      {
        brokers: ctx.brokers,
        topics,
        groupId,
        env: { ...ctx.serviceEnv.consumer, LOG_LEVEL: "info" },
      },
      2,
    );
    const [a, b] = instances.all as [ServiceProcess, ServiceProcess];
    const aTasks = ((await (await fetch(`${a.url}/ready`)).json()) as { tasks: { task: string }[] })
      .tasks.map((t) => t.task);
    ctx.log(`hand-over: ${size} decisions, waiting for b's standbys of ${aTasks.length} tasks`);
    await standbysCaughtUp(b, aTasks);
    const before = b.lines().length;
    markStopped(a);
    const started = performance.now();
    const stoppedAtMs = Date.now();
    const stopped = a.stop(30_000);
    const ms = await resultsOnEveryPartition(ctx.brokers, topics, SCALEOUT_PARTITIONS, started);
    await stopped;
    const moved = readyLines(b.lines().slice(before)).filter((l) => aTasks.includes(l.task));
    const records = moved.reduce((n, l) => n + l.records, 0);
    const timeline = handoverTimeline(b.lines().slice(before), aTasks, stoppedAtMs);
    if (timeline.assigned === undefined) throw new Error("the survivor logged no assignment");
    // What the state costs: from the survivor's assignment to the results. Before it, the
    // survivor waits for its next heartbeat to hear of the rebalance, which depends on
    // where in its heartbeat cycle the SIGTERM fell, not on the history.
    const fromAssignment = ms - timeline.assigned;
    smallest ??= fromAssignment;
    const row: BenchRow = {
      group: "restart",
      name: `hand-over of ${aTasks.length} tasks, ${
        size.toLocaleString("en-US")
      } decisions behind them`,
      value: ms,
      unit: "ms",
      note:
        `SIGTERM to a result on each of ${SCALEOUT_PARTITIONS} partitions; ${moved.length} tasks taken over reading ${records} changelog records; ${
          describeTimeline(timeline)
        }; from the assignment to the results ${Math.round(fromAssignment)} ms; ${
          restoreSummary(b.lines().slice(before))
        }`,
    };
    row.target = size === ctx.plan.handoverSizes[0] ? { text: "≤ 3 s", met: ms <= 3000 } : {
      text: `≤ 3 s; from the assignment ≤ 1.5x the ${
        ctx.plan.handoverSizes[0]!.toLocaleString("en-US")
      } figure`,
      met: ms <= 3000 && fromAssignment <= 1.5 * smallest,
    };
    rows.push(row);
  }
  return rows;
}
