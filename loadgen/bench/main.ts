// deno-lint-ignore-file no-console
/**
 * `deno task bench`: measures the pipeline against the machine's own limits on the
 * local broker and prints one table (also written to `bench-results.json`).
 * See `--help`.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { freePort } from "@payments/kafka/ports";
import { muteKafkajsTimeoutWarning } from "@payments/shared/kafkajs_quiet";
import { startThrowawayBroker, type ThrowawayBroker } from "@payments/stack/broker";
import { registerKafkaCodecs } from "@payments/shared/kafka_codecs";
import type { TopicNames } from "@payments/shared/topics";
import {
  consumerPerformance,
  KAFKA_LIB_DIR,
  kafkaToolsAvailable,
  producerPerformance,
} from "./kafka_tools.ts";
import { codecRows } from "./codecs.ts";
import { bareConsume, bareProduce, paymentRecords, typicalRecordSize } from "./kafkajs.ts";
import { bareTransactionalLoop } from "./transactional.ts";
import {
  type BenchRow,
  formatBenchTable,
  latencyTarget,
  ratioTarget,
  throughputRow,
} from "./table.ts";
import { overloadRows } from "./overload.ts";
import { PLANS } from "./plan.ts";
import { restartRows } from "./restart.ts";
import { committed, envPairs, loadOptions, machine } from "./support.ts";
import { runLoad } from "../run.ts";
import { type ServiceProcess as Service, startService } from "@payments/stack/services";
import { createTopics, deleteTopics, recordsHeld, uniqueTopics } from "@payments/stack/topics";

const HELP = `Usage: deno task bench [--full] [--out FILE] [--only SECTIONS]

Measures, on the local broker (a throw-away one unless KAFKA_BROKERS is set):
  ceiling     Kafka's ProducerPerformance / ConsumerPerformance with records of our
              payment size; bare kafkajs producer (batch 1, 10, 100) and bare
              kafkajs eachBatch consumer on the same payment records, and a bare
              kafkajs consume-transform-produce loop (transactional producer per
              partition, <= 500 records per transaction): the worker's ceiling
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
              and with the store that rebuild left
  overload    the producer alone (a fresh process) under batch-100 requests at
              concurrency 2,048, closed model: admitted payments/s (vs the best
              producer row), admitted p99, share shed, peak RSS (VmHWM) and
              payments answered non-2xx but present in Kafka (read back)
Every row shows the services' RSS at its end (process_resident_memory_bytes).
Targets: HTTP batch-100 >= 70% of bare kafkajs; single-payment p99 < 15 ms at
200 req/s; worker >= 70% of the bare transactional loop; end-to-end p99 < 100 ms
at 1000/s and < 150 ms at 5000/s; restart with a local store flat in the history;
overload: admitted >= 90% of the best producer row, admitted p99 < 250 ms,
RSS peak < 300 MiB, nothing answered non-2xx in Kafka.

  --full            longer runs and more records (several minutes instead of ~2)
  --out FILE        JSON report (default bench-results.json)
  --only LIST       comma-separated sections to run:
                    ceiling,producer,codecs,consumer,e2e,restart,overload
  --producer-env K=V, --consumer-env K=V
                    extra environment for the services (repeatable), to measure a
                    setting, e.g. --consumer-env CONSUMER_MAX_RECORDS_PER_TRANSACTION=2000
  -h, --help        this help

Every HTTP and end-to-end row is preceded by an unmeasured warm-up of the same
shape (1 s, or 3 s with --full). Timings are never asserted: a missed target is
reported, not failed.`;

const SECTIONS = [
  "ceiling",
  "producer",
  "codecs",
  "consumer",
  "e2e",
  "restart",
  "overload",
] as const;
const MiB = 1024 * 1024;

async function rss(services: Array<Service | undefined>) {
  const [producer, consumer] = await Promise.all(services.map((s) => s?.rss()));
  return {
    ...(producer !== undefined ? { producer: producer / MiB } : {}),
    ...(consumer !== undefined ? { consumer: consumer / MiB } : {}),
  };
}

const ms = (value: number) => `${value.toFixed(1)} ms`;
const log = (line: string) => console.error(`bench: ${line}`);

async function guarded(rows: BenchRow[], group: string, name: string, fn: () => Promise<void>) {
  try {
    await fn();
  } catch (error) {
    const message = (error as Error).message.split("\n")[0]!;
    log(`${name} failed: ${(error as Error).message}`);
    rows.push({ group, name, value: 0, unit: "rec/s", error: message });
  }
}

async function main(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      full: { type: "boolean" },
      out: { type: "string" },
      only: { type: "string" },
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
  let serviceEnv: { producer: Record<string, string>; consumer: Record<string, string> };
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
  const plan = PLANS[values.full ? "full" : "short"];
  const out = values.out ?? "bench-results.json";
  muteKafkajsTimeoutWarning();
  registerKafkaCodecs();

  let broker: ThrowawayBroker | undefined;
  let brokers = Deno.env.get("KAFKA_BROKERS")?.split(",").map((b) => b.trim()).filter(Boolean);
  if (!brokers?.length) {
    log("starting a throw-away broker (set KAFKA_BROKERS to use a running one)");
    broker = await startThrowawayBroker({ topics: [] });
    brokers = [broker.bootstrap];
  }
  const bootstrap = brokers[0]!;
  const started = new Date();
  const info = await machine();
  const rows: BenchRow[] = [];
  const created: TopicNames[] = [];
  const topicsFor = async (prefix: string) => {
    const t = uniqueTopics(prefix);
    await createTopics(brokers!, t, 6);
    created.push(t);
    return t;
  };
  const recordSize = typicalRecordSize();
  log(
    `broker ${bootstrap}, payment record ${recordSize} bytes, ${
      values.full ? "full" : "short"
    } run`,
  );
  const bareRate = new Map<number, number>();
  let bareLoop: number | undefined;
  let bareTransactional: number | undefined;

  try {
    const drainTopics = await topicsFor("bench-drain");
    if (only.has("ceiling") || only.has("producer") || only.has("consumer")) {
      const perf = await topicsFor("bench-perf");
      if (only.has("ceiling")) {
        await guarded(rows, "ceiling", "Kafka ProducerPerformance (acks=all)", async () => {
          if (!await kafkaToolsAvailable()) {
            throw new Error(
              `kafka-tools jar not in ${KAFKA_LIB_DIR}: run \`deno task kafka\` once`,
            );
          }
          log(`ProducerPerformance: ${plan.perfRecords} records of ${recordSize} bytes`);
          const r = await producerPerformance(
            bootstrap,
            perf.requests,
            plan.perfRecords,
            recordSize,
          );
          rows.push({
            group: "ceiling",
            name: "Kafka ProducerPerformance (acks=all)",
            value: r.recordsPerSec,
            unit: "rec/s",
            note: `${r.mbPerSec.toFixed(1)} MB/s, p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms`,
          });
          log("ConsumerPerformance");
          const c = await consumerPerformance(bootstrap, perf.requests, plan.perfRecords);
          rows.push({
            group: "ceiling",
            name: "Kafka ConsumerPerformance",
            value: c.recordsPerSec,
            unit: "rec/s",
            note: `${c.mbPerSec.toFixed(1)} MB/s (fetch rate, group join excluded)`,
          });
        });
      }
      const javaProducer = rows.find((r) => r.name.startsWith("Kafka ProducerPerformance"));
      const javaConsumer = rows.find((r) => r.name.startsWith("Kafka ConsumerPerformance"));
      for (const { batch, records } of plan.bare) {
        const name = `bare kafkajs producer, batch ${batch}, 8 sends in flight`;
        await guarded(rows, "ceiling", name, async () => {
          log(name);
          // The batch-100 run doubles as the pre-fill of the drain topic.
          const topic = batch === 100 ? drainTopics.requests : perf.results;
          const count = batch === 100 ? plan.drainRecords : records;
          const t = await bareProduce(
            brokers!,
            topic,
            paymentRecords(count, batch, `bare${batch}`),
            batch,
            8,
          );
          bareRate.set(batch, t.recordsPerSec);
          rows.push(throughputRow({
            group: "ceiling",
            name,
            value: t.recordsPerSec,
            unit: "rec/s",
            ...(javaProducer && !javaProducer.error
              ? { ceiling: { name: "ProducerPerformance", value: javaProducer.value } }
              : {}),
            note: `${t.records} records, idempotent, acks -1`,
          }));
        });
      }
      await guarded(rows, "ceiling", "bare kafkajs eachBatch consumer", async () => {
        log("bare kafkajs eachBatch consumer");
        const t = await bareConsume(brokers!, drainTopics.requests, plan.drainRecords);
        bareLoop = t.recordsPerSec;
        rows.push(throughputRow({
          group: "ceiling",
          name: "bare kafkajs eachBatch consumer",
          value: t.recordsPerSec,
          unit: "rec/s",
          ...(javaConsumer && !javaConsumer.error
            ? { ceiling: { name: "ConsumerPerformance", value: javaConsumer.value } }
            : {}),
          note: `${t.records} payment records, no work per record`,
        }));
      });
      await guarded(rows, "ceiling", "bare kafkajs transactional loop", async () => {
        log("bare kafkajs consume-transform-produce loop");
        const t = await bareTransactionalLoop(
          brokers!,
          drainTopics.requests,
          perf.results,
          plan.drainRecords,
        );
        bareTransactional = t.recordsPerSec;
        rows.push(throughputRow({
          group: "ceiling",
          name: "bare kafkajs transactional loop",
          value: t.recordsPerSec,
          unit: "rec/s",
          ...(bareLoop ? { ceiling: { name: "bare eachBatch", value: bareLoop } } : {}),
          note: `${t.records} records; a transactional producer per partition, ` +
            "<= 500 records per transaction, JSON in, JSON out, sendOffsets, commit",
        }));
      });
    }

    if (only.has("producer")) {
      const topics = await topicsFor("bench-http");
      log("starting the producer");
      await using producer = await startService("producer", {
        port: freePort("127.0.0.1"),
        brokers,
        topics,
        env: serviceEnv.producer,
      });
      await guarded(rows, "producer", "HTTP single-payment latency at 200 req/s", async () => {
        log("HTTP single payments at 200 req/s (open model)");
        const shape = { url: producer.url, rate: 200, batchSize: 1, concurrency: 64 };
        await runLoad(loadOptions({ ...shape, durationMs: plan.warmupMs }));
        const report = await runLoad(loadOptions({ ...shape, durationMs: plan.httpMs }));
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
        rows.push(row);
      });
      for (const { batch, concurrency } of plan.http) {
        const name = `HTTP producer, batch ${batch}, concurrency ${concurrency}`;
        await guarded(rows, "producer", name, async () => {
          log(name);
          const shape = { url: producer.url, batchSize: batch, concurrency };
          await runLoad(loadOptions({ ...shape, durationMs: plan.warmupMs }));
          const report = await runLoad(loadOptions({ ...shape, durationMs: plan.httpMs }));
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
          rows.push(row);
        });
      }
    }

    if (only.has("codecs")) {
      rows.push(
        ...await codecRows({
          brokers: brokers!,
          plan,
          producerEnv: serviceEnv.producer,
          topicsFor,
          log,
        }),
      );
    }

    if (only.has("overload")) {
      const topics = await topicsFor("bench-overload");
      const closed = rows.filter((r) =>
        r.group === "producer" && r.unit === "payments/s" && !r.error
      );
      const best = closed.reduce<BenchRow | undefined>(
        (top, r) => (top && top.value >= r.value ? top : r),
        undefined,
      );
      await guarded(rows, "overload", "overload", async () => {
        rows.push(
          ...await overloadRows({
            brokers: brokers!,
            topics,
            producerEnv: serviceEnv.producer,
            plan,
            ...(best ? { ceiling: best } : {}),
            log,
          }),
        );
      });
    }

    if (only.has("consumer")) {
      await guarded(rows, "consumer", "consumer draining a pre-filled topic", async () => {
        const expected = await recordsHeld(brokers!, drainTopics.requests);
        if (expected === 0) {
          throw new Error("the drain topic is empty: run the ceiling section first");
        }
        const groupId = `bench-worker-${crypto.randomUUID().slice(0, 8)}`;
        log(`consumer draining ${expected} records`);
        await using consumer = await startService("consumer", {
          port: freePort("127.0.0.1"),
          brokers: brokers!,
          topics: drainTopics,
          groupId,
          env: serviceEnv.consumer,
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
            done: await committed(brokers!, groupId, drainTopics.requests),
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
          ...(bareTransactional
            ? { ceiling: { name: "bare transactional loop", value: bareTransactional } }
            : {}),
          rssMiB: await rss([undefined, consumer]),
          note: `${expected} records; committed offsets polled every 100 ms` +
            (bareLoop
              ? `; ${Math.round((rate / bareLoop) * 100)}% of the bare eachBatch loop`
              : ""),
        });
        row.target = ratioTarget(row.ratio, 0.7, "bare transactional loop");
        rows.push(row);
      });
    }

    if (only.has("e2e")) {
      const topics = await topicsFor("bench-e2e");
      const groupId = `bench-e2e-${crypto.randomUUID().slice(0, 8)}`;
      log("starting producer and consumer");
      await using producer = await startService("producer", {
        port: freePort("127.0.0.1"),
        brokers,
        topics,
        env: serviceEnv.producer,
      });
      await using consumer = await startService("consumer", {
        port: freePort("127.0.0.1"),
        brokers,
        topics,
        groupId,
        env: serviceEnv.consumer,
      });
      for (const { rate, batch } of plan.e2e) {
        const label = `${rate}/s, batch ${batch}`;
        await guarded(rows, "e2e", `end-to-end ${label}`, async () => {
          log(`end-to-end at ${label}`);
          const shape = { url: producer.url, rate, batchSize: batch, concurrency: 64 };
          await runLoad(loadOptions({ ...shape, durationMs: plan.warmupMs }));
          const report = await runLoad(loadOptions({
            ...shape,
            durationMs: plan.e2eMs,
            verify: true,
            brokers: brokers!,
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
              note: `p50 ${ms(report.latencyMs.p50)}, p99.9 ${
                ms(report.latencyMs.p999)
              }; ${pacing}`,
            };
            if (rate === 200) row.target = latencyTarget("p99", row.value, 15);
            rows.push(row);
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
          rows.push(row);
        });
      }
    }
    if (only.has("restart")) {
      await guarded(rows, "restart", "consumer restart", async () => {
        rows.push(
          ...await restartRows({
            brokers: brokers!,
            sizes: plan.restartSizes,
            topicsFor,
            consumerEnv: serviceEnv.consumer,
            log,
          }),
        );
      });
    }
  } finally {
    await deleteTopics(brokers, created.flatMap((t) => Object.values(t)));
    await broker?.stop();
  }

  console.log(formatBenchTable(rows));
  const result = {
    startedAt: started.toISOString(),
    finishedAt: new Date().toISOString(),
    mode: values.full ? "full" : "short",
    loadAverageAtEnd: Deno.loadavg(),
    machine: info,
    recordSizeBytes: recordSize,
    plan,
    serviceEnv,
    rows,
  };
  await Deno.writeTextFile(out, JSON.stringify(result, null, 2) + "\n");
  console.log(`\nwritten to ${out}`);
  return 0;
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
