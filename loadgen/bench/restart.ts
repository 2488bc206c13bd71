/**
 * The consumer's restart cost against the size of its history: for each history
 * size, a changelog holding that many decisions, then the time from starting a
 * consumer to its first new result, once with no local store (a full rebuild from
 * the changelog) and once more on the store that rebuild left (a restart on the same
 * disk, reading from the checkpoint).
 *
 * The history is written straight to the payment tasks' changelog in the records they
 * write (`claimRecord`), claimed an hour to a day ago: building 1M decisions through
 * the worker would take minutes and measure the drain, not the restart.
 *
 * @module
 */
import type { Message } from "kafkajs";
import type { TopicNames } from "@payments/shared/topics";
import { claimRecord } from "@payments/consumer/claim_records";
import { startService } from "@payments/stack/services";
import { bareProduce } from "./kafkajs.ts";
import { resultsOnEveryPartition } from "./handover.ts";
import type { BenchRow } from "./table.ts";

const PARTITIONS = 6;
const HOUR = 3_600_000;

/** `count` claim records spread over the changelog's partitions, an hour to a day old. */
function historyRecords(topic: string, count: number, runId: string): Message[] {
  const now = Date.now();
  const records: Message[] = [];
  for (let i = 0; i < count; i++) {
    const decidedAtMs = now - HOUR - Math.floor((i / count) * 23 * HOUR);
    const record = claimRecord({
      paymentId: `HIST-${runId}-${i}`,
      customerId: `C-${i % 5000}`,
      createdAtMs: decidedAtMs - 50,
      claimedAtMs: decidedAtMs,
      inputPartition: i % PARTITIONS,
      // Claimed from another input topic: no offset of this one is answered by them
      // (a real offset would make the store skip the new payment at that offset).
      inputOffset: -1,
      correlationId: `corr-${i}`,
      duplicates: 0,
    }, topic);
    records.push({
      key: record.key as string,
      value: record.value as string,
      partition: record.partition,
      timestamp: String(decidedAtMs),
    });
  }
  // Time order per partition, as the worker writes them (the broker's time index).
  return records.reverse();
}

/** Milliseconds from starting a consumer to a new payment's result on every partition. */
async function timeToFirstResult(
  brokers: string[],
  topics: TopicNames,
  groupId: string,
  env: Record<string, string>,
) {
  const started = performance.now();
  const consumer = await startService("consumer", {
    brokers,
    topics,
    groupId,
    env,
    waitReady: false,
  });
  let measured;
  try {
    const ms = await resultsOnEveryPartition(brokers, topics, PARTITIONS, started);
    const restores = consumer.lines()
      .filter((l) => l.includes('"message":"Task payments-') && l.includes(" ready in "))
      .map((l) => JSON.parse(l) as { records: number; ready_ms: number });
    if (restores.length === 0) {
      throw new Error(`the consumer logged no restore:\n${consumer.tail(15)}`);
    }
    const records = restores.reduce((n, r) => n + r.records, 0);
    const restoreMs = Math.max(...restores.map((r) => r.ready_ms));
    measured = { ms, records, restoreMs, rssMiB: ((await consumer.rss()) ?? 0) / (1024 * 1024) };
  } finally {
    await consumer.stop();
  }
  const code = await consumer.exited;
  if (code !== 0) throw new Error(`the consumer exited with ${code}:\n${consumer.tail(15)}`);
  return measured;
}

/** What the restart section needs from the bench. */
export interface RestartBench {
  brokers: string[];
  sizes: readonly number[];
  topicsFor: (prefix: string) => Promise<TopicNames>;
  /** Extra consumer environment (the bench's `--consumer-env`). */
  consumerEnv: Record<string, string>;
  log: (line: string) => void;
}

/** One row per history size and kind of restart. */
export async function restartRows(bench: RestartBench): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const withStore: number[] = [];
  for (const size of bench.sizes) {
    const topics = await bench.topicsFor(`bench-restart-${size}`);
    const groupId = `bench-restart-${crypto.randomUUID().slice(0, 8)}`;
    bench.log(`restart: writing ${size} decisions to ${topics.decisions}`);
    const history = historyRecords(topics.decisions, size + 1, crypto.randomUUID().slice(0, 8));
    await bareProduce(bench.brokers, topics.decisions, history, 500, 8);
    const stateDir = await Deno.makeTempDir({ prefix: "bench-restart-state-" });
    try {
      // Restore lines are info: the rows read their figures from them.
      const env = { ...bench.consumerEnv, LOG_LEVEL: "info", CONSUMER_STATE_DIR: stateDir };
      bench.log(`restart: ${size} decisions, no local store`);
      const rebuild = await timeToFirstResult(bench.brokers, topics, groupId, env);
      bench.log(`restart: ${size} decisions, on the store the rebuild left`);
      const restart = await timeToFirstResult(bench.brokers, topics, groupId, env);
      withStore.push(restart.ms);
      const label = `${size.toLocaleString("en-US")} decisions`;
      rows.push({
        group: "restart",
        name: `restart to a new result on every partition, ${label}, no local store (rebuild)`,
        value: rebuild.ms,
        unit: "ms",
        rssMiB: { consumer: rebuild.rssMiB },
        note: `${rebuild.records} changelog records read in ${Math.round(rebuild.restoreMs)} ms (${
          Math.round(rebuild.records / Math.max(0.001, rebuild.restoreMs / 1000)).toLocaleString(
            "en-US",
          )
        } rec/s)`,
      });
      const row: BenchRow = {
        group: "restart",
        name: `restart to a new result on every partition, ${label}, local store`,
        value: restart.ms,
        unit: "ms",
        rssMiB: { consumer: restart.rssMiB },
        note: `${restart.records} changelog records read from the checkpoint`,
      };
      if (withStore.length > 1) {
        const first = withStore[0]!;
        row.target = {
          text: `≤ 1.5x the ${bench.sizes[0]!.toLocaleString("en-US")} figure`,
          met: restart.ms <= 1.5 * first,
        };
      }
      rows.push(row);
    } finally {
      await Deno.remove(stateDir, { recursive: true }).catch(() => {});
    }
  }
  return rows;
}
