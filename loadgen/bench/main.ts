// deno-lint-ignore-file no-console
/**
 * `deno task bench`: measures the pipeline against the machine's own limits on the
 * local broker and prints one table (also written to `bench-results.json`).
 * See `--help`.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { muteKafkajsTimeoutWarning } from "@payments/shared/kafkajs_quiet";
import { registerKafkaCodecs } from "@payments/shared/kafka_codecs";
import type { TopicNames } from "@payments/shared/topics";
import { startThrowawayBroker, type ThrowawayBroker } from "@payments/stack/broker";
import { createTopics, deleteTopics, uniqueTopics } from "@payments/stack/topics";
import { ceilingRows, type Ceilings } from "./ceiling.ts";
import { codecRows } from "./codecs.ts";
import { consumerRows } from "./consumer.ts";
import { type BenchContext, guarded, log } from "./context.ts";
import { e2eRows } from "./e2e.ts";
import { typicalRecordSize } from "./kafkajs.ts";
import { overloadRows } from "./overload.ts";
import { type Plan, PLANS } from "./plan.ts";
import { producerRows } from "./producer.ts";
import { restartRows } from "./restart.ts";
import { burstRestartRows, handoverRows } from "./handover.ts";
import { scaleoutRows } from "./scaleout.ts";
import { profileRows } from "./profile_rows.ts";
import { statusReadRows } from "./status_reads.ts";
import { tracingRows } from "./tracing.ts";
import { envPairs, machine } from "./support.ts";
import { type BenchRow, formatBenchTable } from "./table.ts";

const HELP = `Usage: deno task bench [--full] [--out FILE] [--only SECTIONS] [--drain-records N]

Measures, on the local broker (a throw-away one unless KAFKA_BROKERS is set):
  ceiling     Kafka's ProducerPerformance / ConsumerPerformance with records of our
              payment size; bare kafkajs producer (batch 1, 10, 100, and 100 split
              into one send per partition) and the bare @platformatic/kafka producer
              beside it, a bare kafkajs eachBatch consumer on the same payment
              records, and three consume-transform-produce loops on the records the
              consumer drains, each checked (every input exactly one result, read
              back read_committed): bare kafkajs (transactional producer per
              partition, <= 500 records per transaction: the worker's ceiling), the
              same on @platformatic/kafka, and a Kafka Streams peer (Java, built
              with Maven into .cache/streams-peer on first use; needs Java 17+ and
              Maven: exactly_once_v2, one thread, RocksDB store of decided ids)
  producer    our producer over HTTP at batch sizes 1, 10, 100 and a few
              concurrencies, each as a ratio to bare kafkajs at the same batch size
  codecs      our producer once per KAFKA_COMPRESSION (none, gzip, snappy, lz4, zstd)
              at batch 1 and 100: payments/s, bytes per payment on the broker's disk,
              producer CPU per 1000 payments
  consumer    our consumer draining a pre-filled topic, as a ratio to the bare
              transactional loop
  e2e         HTTP accept to committed result at fixed offered rates (200, 1000,
              5000 payments/s), with --verify
  restart     consumer restart to its first new result with 10k, 100k and 1M
              decisions behind it: without a local store (rebuilt from the changelog)
              and with the store that rebuild left; a restart right after a burst of
              100k (400k with --full) decisions beside a quiet restart; and the
              hand-over of one of two instances' tasks to the other (its standbys)
              with 20k and 200k (1M with --full) decisions behind them
  profile     the worker's CPU per payment by place (npm package, kafkajs encoding
              and decoding, our source files), from a V8 profile while it drains
  scaleout    one, two and three consumer instances on 12 partitions draining the
              same pre-filled payments (60k, 200k with --full): rate, CPU per payment
              of all instances, each instance's CPU and memory; and with standbys off
              and with the store that rebuild left
  status      GET /payments/{id} at 500 requests/s against decided payments with
              the consumer running (p99), and the consumer's decisions/s draining a
              pre-filled topic without and with those reads (alternating runs)
  tracing     the producer (HTTP batch 1, concurrency 8) and the consumer (draining
              a pre-filled topic) with tracing off, at the services' default sampling
              and at 100%, exporting to a Jaeger this section starts (built with Go
              on first use): throughput and CPU per payment, rounds alternating
  overload    the producer alone (a fresh process) under batch-100 requests at
              concurrency 2,048, closed model: admitted payments/s (vs the best
              producer row), admitted p99, share shed, peak RSS (VmHWM) and
              payments answered non-2xx but present in Kafka (read back)
Every row shows the services' RSS at its end (process_resident_memory_bytes);
rows that drain or produce show the CPU their process spent per record over the
measured window (/proc/<pid>/stat), and the loops the records they wrote per input
(transaction markers apart).
Targets: HTTP batch-100 >= 70% of bare kafkajs; single-payment p99 < 15 ms at
200 req/s; worker >= 50% of the bare transactional loop; end-to-end p99 < 100 ms
at 1000/s and < 150 ms at 5000/s; restart with a local store flat in the history;
restart after a burst <= 3x a quiet one; hand-over <= 3 s, and flat in the history
from the survivor's assignment on (it hears of the rebalance at its next heartbeat);
scale-out CPU per payment at 3 instances <= 1.2x one instance's;
overload: admitted >= 90% of the best producer row, admitted p99 < 250 ms,
RSS peak < 300 MiB, nothing answered non-2xx in Kafka; status reads p99 < 10 ms at
500/s, and the drain with them >= 95% of the drain without; tracing at the default
sampling >= 90% of the throughput with tracing off.

  --full            longer runs and more records (several minutes instead of ~2)
  --out FILE        JSON report (default bench-results.json)
  --drain-records N records pre-filled for the loops, the consumer section and each
                    drain of the status section (default 30000, 100000 with --full)
  --only LIST       comma-separated sections to run:
                    ceiling,producer,codecs,consumer,e2e,restart,scaleout,profile,overload,
                    status,tracing
  --producer-env K=V, --consumer-env K=V
                    extra environment for the services (repeatable), to measure a
                    setting, e.g. --consumer-env CONSUMER_MAX_RECORDS_PER_TRANSACTION=2000
  -h, --help        this help

Every HTTP and end-to-end row is preceded by an unmeasured warm-up of the same
shape (1 s, or 3 s with --full). Timings are never asserted: a missed target is
reported, not failed. A row that could not be measured (a tool missing, a check
failed) says why in its notes, and the bench then exits with status 1.`;

const SECTIONS = [
  "ceiling",
  "producer",
  "codecs",
  "consumer",
  "e2e",
  "restart",
  "scaleout",
  "profile",
  "overload",
  "status",
  "tracing",
] as const;
/** What the command line asks for. */
interface BenchOptions {
  only: Set<string>;
  full: boolean;
  out: string;
  plan: Plan;
  serviceEnv: BenchContext["serviceEnv"];
}

/** The options, or the exit code when there is nothing to run (--help: 0, a bad option: 2). */
function parseOptions(args: string[]): BenchOptions | number {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      full: { type: "boolean" },
      out: { type: "string" },
      only: { type: "string" },
      "drain-records": { type: "string" },
      "producer-env": { type: "string", multiple: true },
      "consumer-env": { type: "string", multiple: true },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const only = new Set((values.only ?? SECTIONS.join(",")).split(",").map((s) => s.trim()));
  for (const s of only) {
    if (!(SECTIONS as readonly string[]).includes(s)) {
      console.error(`--only takes ${SECTIONS.join(", ")} (got "${s}")`);
      return 2;
    }
  }
  let serviceEnv: BenchContext["serviceEnv"];
  try {
    // Services log at warning in benchmarks, as the figures were recorded: one info line
    // per payment is part of what a production run pays, but not what is compared here.
    const quiet = { LOG_LEVEL: "warning" };
    serviceEnv = {
      producer: { ...quiet, ...envPairs(values["producer-env"] ?? [], "--producer-env") },
      consumer: { ...quiet, ...envPairs(values["consumer-env"] ?? [], "--consumer-env") },
    };
  } catch (error) {
    console.error((error as Error).message);
    return 2;
  }
  const drainRecords = values["drain-records"];
  if (drainRecords !== undefined && !/^[1-9]\d*$/.test(drainRecords)) {
    console.error(`--drain-records takes a positive whole number (got "${drainRecords}")`);
    return 2;
  }
  const full = values.full ?? false;
  const plan = {
    ...PLANS[full ? "full" : "short"],
    ...(drainRecords ? { drainRecords: Number(drainRecords) } : {}),
  };
  return { only, full, out: values.out ?? "bench-results.json", plan, serviceEnv };
}

/** The overload rows, against the best closed-model producer row measured before them. */
async function overloadSection(ctx: BenchContext) {
  const topics = await ctx.topicsFor("bench-overload");
  const closed = ctx.rows.filter((r) =>
    r.group === "producer" && r.unit === "payments/s" && !r.error
  );
  const best = closed.reduce<BenchRow | undefined>(
    (top, r) => (top && top.value >= r.value ? top : r),
    undefined,
  );
  await guarded(ctx, "overload", "overload", async () => {
    ctx.rows.push(
      ...await overloadRows({
        brokers: ctx.brokers,
        topics,
        producerEnv: ctx.serviceEnv.producer,
        plan: ctx.plan,
        ...(best ? { ceiling: best } : {}),
        log,
      }),
    );
  });
}

/** The restart rows: by history size, right after a burst, and the hand-over. */
async function restartSection(ctx: BenchContext) {
  await guarded(ctx, "restart", "consumer restart", async () => {
    ctx.rows.push(
      ...await restartRows({
        brokers: ctx.brokers,
        sizes: ctx.plan.restartSizes,
        topicsFor: ctx.topicsFor,
        consumerEnv: ctx.serviceEnv.consumer,
        log,
      }),
    );
  });
  await guarded(ctx, "restart", "restart right after a burst", async () => {
    ctx.rows.push(...await burstRestartRows(ctx));
  });
  await guarded(ctx, "restart", "hand-over", async () => {
    ctx.rows.push(...await handoverRows(ctx));
  });
}

/** Runs the sections asked for, in the order whose rows later sections compare with. */
async function runSections(ctx: BenchContext, only: Set<string>, recordSize: number) {
  const drainTopics = await ctx.topicsFor("bench-drain");
  let ceilings: Ceilings = { bareRate: new Map() };
  if (only.has("ceiling") || only.has("producer") || only.has("consumer")) {
    ceilings = await ceilingRows(ctx, {
      ceilingSection: only.has("ceiling"),
      loops: only.has("ceiling") || only.has("consumer"),
      drainTopics,
      recordSize,
    });
  }
  if (only.has("producer")) await producerRows(ctx, ceilings.bareRate);
  if (only.has("codecs")) {
    ctx.rows.push(
      ...await codecRows({
        brokers: ctx.brokers,
        plan: ctx.plan,
        producerEnv: ctx.serviceEnv.producer,
        topicsFor: ctx.topicsFor,
        log,
      }),
    );
  }
  if (only.has("overload")) await overloadSection(ctx);
  if (only.has("consumer")) await consumerRows(ctx, drainTopics, ceilings);
  if (only.has("e2e")) await e2eRows(ctx);
  if (only.has("status")) await statusReadRows(ctx);
  if (only.has("tracing")) await tracingRows(ctx);
  if (only.has("restart")) await restartSection(ctx);
  if (only.has("scaleout")) await scaleoutRows(ctx, ceilings);
  if (only.has("profile")) await profileRows(ctx);
}

/** Prints the table, writes the JSON report; 1 when a row could not be measured. */
async function report(
  options: BenchOptions,
  rows: BenchRow[],
  run: { startedAt: string; machine: unknown; recordSizeBytes: number },
) {
  console.log(formatBenchTable(rows));
  const result = {
    startedAt: run.startedAt,
    finishedAt: new Date().toISOString(),
    mode: options.full ? "full" : "short",
    loadAverageAtEnd: Deno.loadavg(),
    machine: run.machine,
    recordSizeBytes: run.recordSizeBytes,
    plan: options.plan,
    serviceEnv: options.serviceEnv,
    rows,
  };
  await Deno.writeTextFile(options.out, JSON.stringify(result, null, 2) + "\n");
  console.log(`\nwritten to ${options.out}`);
  const failed = rows.filter((r) => r.error);
  if (failed.length > 0) {
    console.error(`\n${failed.length} row(s) could not be measured:`);
    for (const r of failed) console.error(`  ${r.name}: ${r.error}`);
    return 1;
  }
  return 0;
}

async function main(args: string[]): Promise<number> {
  const options = parseOptions(args);
  if (typeof options === "number") return options;
  const { only, full, plan, serviceEnv } = options;
  muteKafkajsTimeoutWarning();
  registerKafkaCodecs();

  let broker: ThrowawayBroker | undefined;
  let brokers = Deno.env.get("KAFKA_BROKERS")?.split(",").map((b) => b.trim()).filter(Boolean);
  if (!brokers?.length) {
    log("starting a throw-away broker (set KAFKA_BROKERS to use a running one)");
    broker = await startThrowawayBroker({ topics: [] });
    brokers = [broker.bootstrap];
  }
  const startedAt = new Date().toISOString();
  const info = await machine();
  const created: TopicNames[] = [];
  const ctx: BenchContext = {
    brokers,
    bootstrap: brokers[0]!,
    ...(broker ? { brokerPid: broker.pid } : {}),
    plan,
    serviceEnv,
    async topicsFor(prefix: string, partitions = 6) {
      const t = uniqueTopics(prefix);
      await createTopics(brokers!, t, partitions);
      created.push(t);
      return t;
    },
    log,
    rows: [],
  };
  const recordSize = typicalRecordSize();
  log(
    `broker ${ctx.bootstrap}, payment record ${recordSize} bytes, ${full ? "full" : "short"} run`,
  );
  try {
    await runSections(ctx, only, recordSize);
  } finally {
    await deleteTopics(brokers, created.flatMap((t) => Object.values(t)));
    await broker?.stop();
  }
  return await report(options, ctx.rows, { startedAt, machine: info, recordSizeBytes: recordSize });
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
