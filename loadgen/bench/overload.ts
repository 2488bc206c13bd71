/**
 * The overload section of `deno task bench`: the producer alone (a fresh process),
 * pushed far past its capacity by many more batch requests in flight than its
 * admission budgets take, closed model, in two client models:
 *
 * - **clients that back off as told** (`--retry-shed`): a shed request is sent again,
 *   same payments, after its `Retry-After`. The targets apply here: admitted payments/s
 *   against the best closed-model producer row, p99 of admitted requests, the peak RSS
 *   (VmHWM, so no sample can miss it), and payments answered non-2xx that are in Kafka
 *   all the same, read back from the requests topic (goal 0: a shed request was refused
 *   before anything was sent).
 * - **impatient clients**: a shed request's place goes to a new request at once. Every
 *   client then waits its turn to be read at all, which no budget can shorten
 *   (Little's law: latency = requests in flight / answers per second), so this row
 *   shows what the producer's own histogram says next to what the client saw.
 *
 * @module
 */
import { freePort } from "@payments/kafka/ports";
import type { TopicNames } from "@payments/shared/topics";
import { startService } from "@payments/stack/services";
import { belowTarget, type BenchRow, latencyTarget, ratioTarget, throughputRow } from "./table.ts";
import type { Plan } from "./plan.ts";
import { bucketQuantile, histogramBuckets, loadOptions, processMemory } from "./support.ts";
import type { LoadReport } from "../report.ts";
import { runLoad } from "../run.ts";

/** What the overload rows need. */
export interface OverloadBench {
  brokers: string[];
  /** Fresh topics; the producer writes to `requests`, which is read back. */
  topics: TopicNames;
  producerEnv: Record<string, string>;
  plan: Plan;
  /** The best closed-model HTTP producer row measured before, the throughput ceiling. */
  ceiling?: BenchRow;
  log: (line: string) => void;
}

const ms = (value: number) => `${value.toFixed(1)} ms`;
const group = "overload";

/** The producer's own latency histogram of admitted batch requests. */
async function admittedHistogram(url: string): Promise<Map<number, number>> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return histogramBuckets(text, "http_request_duration_seconds", {
    handler: "/payments/batch",
    status: "202",
  });
}

interface Measured {
  report: LoadReport;
  /** p99 of admitted requests from handler start to answer, as a bucket bound, in ms. */
  producerP99Ms: number | undefined;
}

/** Runs the overload section and returns its rows. */
export async function overloadRows(bench: OverloadBench): Promise<BenchRow[]> {
  const { batch, concurrency, durationMs, warmupMs } = bench.plan.overload;
  const label = `batch ${batch}, concurrency ${concurrency}`;
  // A fresh process, so its peak RSS belongs to this section alone.
  await using producer = await startService("producer", {
    port: freePort("127.0.0.1"),
    brokers: bench.brokers,
    topics: bench.topics,
    env: bench.producerEnv,
  });
  const idle = await processMemory(producer.pid);
  const measure = async (retryShed: boolean, what: string): Promise<Measured> => {
    const shape = { url: producer.url, batchSize: batch, concurrency, retryShed };
    bench.log(`overload, ${what}: warm-up at ${label}`);
    await runLoad(loadOptions({ ...shape, durationMs: warmupMs }));
    bench.log(`overload, ${what}: ${label} for ${durationMs / 1000} s, then the topic read back`);
    const before = await admittedHistogram(producer.url);
    const report = await runLoad(loadOptions({
      ...shape,
      durationMs,
      // The requests topic itself: each accepted payment must be there once, no shed
      // one at all. The consumer is not running, so there are no results to read.
      verify: true,
      brokers: bench.brokers,
      resultsTopic: bench.topics.requests,
      verifyTimeoutMs: 60_000,
    }));
    const p99 = bucketQuantile(before, await admittedHistogram(producer.url), 0.99);
    return { report, producerP99Ms: p99 === undefined ? undefined : p99 * 1000 };
  };

  const polite = await measure(true, "clients backing off");
  const politeMemory = await processMemory(producer.pid);
  const impatient = await measure(false, "impatient clients");
  const memory = await processMemory(producer.pid);

  const politeLabel = `${label}, clients honouring Retry-After`;
  const throughput = admitted(polite, politeLabel, bench);
  throughput.target = ratioTarget(throughput.ratio, 0.9, "best closed-model producer row");
  const latency = latencyRow(polite, politeLabel, { producer: politeMemory.rssMiB });
  latency.target = latencyTarget("p99", latency.value, 250);
  const peak: BenchRow = {
    group,
    name: `overload: producer RSS peak, ${label}`,
    value: memory.peakMiB,
    unit: "MiB",
    rssMiB: { producer: memory.rssMiB },
    note: `VmHWM over both client models; ${politeMemory.peakMiB.toFixed(0)} MiB after the ` +
      `first; ${idle.rssMiB.toFixed(0)} MiB at start`,
  };
  peak.target = belowTarget(peak.value, 300, "MiB");
  const impatientLabel = `${label}, impatient clients`;
  return [
    throughput,
    latency,
    peak,
    { ...writtenRow(polite, politeLabel), target: belowTarget(present(polite), 0, "payments") },
    admitted(impatient, impatientLabel, bench),
    latencyRow(impatient, impatientLabel, { producer: memory.rssMiB }),
    // Impatient clients also give up on requests (the load generator's timeout) that
    // the producer then answers 202: those count here too, so no target.
    writtenRow(impatient, impatientLabel),
  ];
}

function admitted({ report }: Measured, label: string, bench: OverloadBench): BenchRow {
  const requests = report.requests.total;
  const shed = report.requests.byStatus["503 shed"] ?? 0;
  return throughputRow({
    group,
    name: `overload: admitted payments/s, ${label}`,
    value: report.rates.accepted,
    unit: "payments/s",
    ...(bench.ceiling
      ? { ceiling: { name: "best closed-model producer row", value: bench.ceiling.value } }
      : {}),
    note: `${(requests > 0 ? 100 * shed / requests : 0).toFixed(1)}% of ` +
      `${requests.toLocaleString("en-US")} requests shed (as the client saw it p50 ` +
      `${ms(report.shedLatencyMs.p50)}, p99 ${ms(report.shedLatencyMs.p99)}); ` +
      `${report.payments.errors} payments in other errors` +
      (bench.ceiling ? "" : "; run the producer section too for the ratio"),
  });
}

function latencyRow(
  { report, producerP99Ms }: Measured,
  label: string,
  rssMiB: BenchRow["rssMiB"],
): BenchRow {
  const l = report.acceptedLatencyMs;
  return {
    group,
    name: `overload: admitted request latency p99, ${label}`,
    value: l.p99,
    unit: "ms",
    ...(rssMiB ? { rssMiB } : {}),
    note: `as the client saw it (${l.count} admitted): p50 ${ms(l.p50)}, p99.9 ${ms(l.p999)}, ` +
      `max ${ms(l.max)}; in the producer, handler to answer, p99 <= ` +
      (producerP99Ms === undefined ? "n/a" : `${producerP99Ms} ms (histogram bucket)`),
  };
}

/** Payments answered non-2xx (or not answered) that Kafka holds all the same. */
function present({ report }: Measured): number {
  const v = report.verify!;
  return v.shedWritten + v.resolvedUnknown + v.unexpected;
}

function writtenRow(measured: Measured, label: string): BenchRow {
  const v = measured.report.verify!;
  return {
    group,
    name: `overload: answered non-2xx but present in Kafka, ${label}`,
    value: present(measured),
    unit: "payments",
    note: `${v.shedWritten} shed, ${v.resolvedUnknown} timed out or 5xx, ${v.unexpected} 4xx; ` +
      `${v.missing} accepted but missing, ${v.extra} written twice` +
      (v.timedOut ? "; reading back TIMED OUT" : ""),
  };
}
