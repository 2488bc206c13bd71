/**
 * The `tracing` rows of `deno task bench`: what Deno's OpenTelemetry and our spans cost,
 * for the producer (HTTP single payments, the shape with the most spans per payment) and
 * the consumer (draining a pre-filled topic through both stages), with tracing off
 * (`OTEL_DENO=false`), at the services' default sampling (`<service>/telemetry.env`) and
 * at 100%, every span exported to a real Jaeger on this machine (`@payments/jaeger`).
 *
 * Each round runs the three modes one after the other, in an order rotated every round,
 * each in a fresh process (and, for the consumer, on fresh topics): neighbours on a
 * shared 2-core machine drift over minutes, so a mode is never measured only at one end
 * of a run. Each row is the mean of its rounds, with every round's figure and the spread
 * in its note, and the CPU its service spent per payment over the measured window
 * (`/proc/<pid>/stat`), which holds far better than rates on a busy machine. The
 * consumer's records carry a `traceparent` sampled at the mode's ratio (the producer
 * would have decided), none with tracing off; the producer's load sends none, so its
 * server spans are sampled by its own ratio.
 *
 * @module
 */
import type { Message } from "kafkajs";
import { freePort } from "@payments/kafka/ports";
import { type JaegerServer, startJaeger } from "@payments/jaeger/launcher";
import { startService } from "@payments/stack/services";
import { telemetryDefaults } from "@payments/stack/telemetry";
import { runLoad } from "../run.ts";
import { type BenchContext, guarded, ms, rss } from "./context.ts";
import { bareProduce, paymentRecords } from "./kafkajs.ts";
import { observePipelineDrain } from "./pipeline_drain.ts";
import { microsPerRecord, procCpuClock, startCpuSpan } from "./process_cpu.ts";
import { loadOptions } from "./support.ts";
import { type BenchRow, ratioTarget, throughputRow } from "./table.ts";

/** One way of running a service, as far as tracing goes. */
export interface TracingMode {
  name: string;
  /** The service's environment for this mode (over its telemetry defaults). */
  env: Record<string, string>;
  /** The share of the consumer's input records that arrive sampled. */
  sampledShare: number;
}

/**
 * Off; on with nothing sampled (what the runtime's OpenTelemetry costs by itself, our
 * spans being all unsampled); the services' default sampling; everything sampled.
 */
export function tracingModes(defaultRatio: number): TracingMode[] {
  return [
    { name: "tracing off", env: { OTEL_DENO: "false" }, sampledShare: 0 },
    {
      name: "tracing on, nothing sampled",
      env: { OTEL_DENO: "true", OTEL_TRACES_SAMPLER: "always_off" },
      sampledShare: 0,
    },
    {
      name: `tracing at the default ${defaultRatio * 100}%`,
      env: {
        OTEL_DENO: "true",
        OTEL_TRACES_SAMPLER: "parentbased_traceidratio",
        OTEL_TRACES_SAMPLER_ARG: String(defaultRatio),
      },
      sampledShare: defaultRatio,
    },
    {
      name: "tracing at 100%",
      env: { OTEL_DENO: "true", OTEL_TRACES_SAMPLER: "parentbased_always_on" },
      sampledShare: 1,
    },
  ];
}

/** The modes of round `round`, rotated so each mode takes each place in turn. */
export function roundOrder<T>(modes: readonly T[], round: number): T[] {
  const shift = round % modes.length;
  return [...modes.slice(shift), ...modes.slice(0, shift)];
}

const hex = (bytes: number) =>
  Array.from(crypto.getRandomValues(new Uint8Array(bytes)), (b) => b.toString(16).padStart(2, "0"))
    .join("");

/**
 * `records` with the trace context a producer at `sampledShare` would have written: a
 * `traceparent` of a trace of its own, sampled (`-01`) for that share of them; none at 0.
 */
export function withTraceparents(records: Message[], sampledShare: number): Message[] {
  return records.map((record) => {
    const { traceparent: _, ...headers } = (record.headers ?? {}) as Record<string, string>;
    if (sampledShare === 0) return { ...record, headers };
    const flags = Math.random() < sampledShare ? "01" : "00";
    return { ...record, headers: { ...headers, traceparent: `00-${hex(16)}-${hex(8)}-${flags}` } };
  });
}

/** One measured run of one mode. */
interface Run {
  rate: number;
  cpuMicros: number;
  jaegerCpuMicros: number;
  note?: string;
  rssMiB?: BenchRow["rssMiB"];
}

/** The spread of a list of figures, for a note: `1,234 / 1,300 (spread 5%)`. */
function spread(values: number[]): string {
  const each = values.map((v) => Math.round(v).toLocaleString("en-US")).join(" / ");
  const low = Math.min(...values);
  const high = Math.max(...values);
  return `${each} (spread ${low > 0 ? Math.round(((high - low) / low) * 100) : 0}%)`;
}

const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;

/** Measures tracing's cost, pushing the rows onto `ctx.rows`. */
export async function tracingRows(ctx: BenchContext): Promise<void> {
  const defaults = telemetryDefaults("producer");
  const modes = tracingModes(Number(defaults.OTEL_TRACES_SAMPLER_ARG ?? "1"));
  let jaeger: JaegerServer;
  try {
    jaeger = await startJaeger({
      ports: {
        otlpGrpc: freePort(),
        otlpHttp: freePort(),
        query: freePort(),
        queryGrpc: freePort(),
      },
      maxTraces: 200_000,
    });
  } catch (error) {
    const why = (error as Error).message.split("\n")[0]!;
    for (const service of ["producer", "consumer"]) {
      ctx.rows.push({
        group: "tracing",
        name: `${service} with tracing on and off`,
        value: 0,
        unit: "payments/s",
        error: `needs Jaeger: ${why}`,
      });
    }
    return;
  }
  try {
    const exportTo = (service: string) => ({
      OTEL_EXPORTER_OTLP_ENDPOINT: jaeger.otlpHttpUrl,
      OTEL_SERVICE_NAME: `bench-${service}`,
    });
    const jaegerClock = procCpuClock(jaeger.pid);
    const { rounds } = ctx.plan.tracing;
    const producerRuns = new Map<string, Run[]>(modes.map((m) => [m.name, []]));
    const consumerRuns = new Map<string, Run[]>(modes.map((m) => [m.name, []]));

    await guarded(ctx, "tracing", "producer with tracing on and off", async () => {
      const topics = await ctx.topicsFor("bench-tracing-http");
      for (let round = 0; round < rounds; round++) {
        for (const mode of roundOrder(modes, round)) {
          ctx.log(`tracing: producer, ${mode.name}, round ${round + 1}/${rounds}`);
          await using producer = await startService("producer", {
            port: freePort("127.0.0.1"),
            brokers: ctx.brokers,
            topics,
            env: {
              ...ctx.serviceEnv.producer,
              LAG_MONITOR_ENABLED: "false",
              ...exportTo("producer"),
              ...mode.env,
            },
          });
          const shape = { url: producer.url, batchSize: 1, concurrency: 8 };
          await runLoad(loadOptions({ ...shape, durationMs: ctx.plan.warmupMs }));
          const cpu = await startCpuSpan(procCpuClock(producer.pid));
          const backend = await startCpuSpan(jaegerClock);
          const report = await runLoad(loadOptions({ ...shape, durationMs: ctx.plan.httpMs }));
          const [spent, exported] = [await cpu.stop(), await backend.stop()];
          if (report.payments.errors > 0) {
            throw new Error(`${report.payments.errors} payments failed (${mode.name})`);
          }
          producerRuns.get(mode.name)!.push({
            rate: report.rates.accepted,
            cpuMicros: microsPerRecord(spent.cpuSeconds, report.payments.accepted),
            jaegerCpuMicros: microsPerRecord(exported.cpuSeconds, report.payments.accepted),
            note: `p99 ${ms(report.latencyMs.p99)}`,
            rssMiB: await rss([producer]),
          });
        }
      }
      pushRows(ctx, "producer, HTTP batch 1, concurrency 8", "payments/s", modes, producerRuns);
    });

    await guarded(ctx, "tracing", "consumer with tracing on and off", async () => {
      const records = ctx.plan.tracing.drainRecords;
      for (let round = 0; round < rounds; round++) {
        for (const mode of roundOrder(modes, round)) {
          ctx.log(`tracing: consumer draining ${records}, ${mode.name}, round ${round + 1}`);
          const topics = await ctx.topicsFor("bench-tracing-drain");
          const groupId = `bench-tracing-${crypto.randomUUID().slice(0, 8)}`;
          const input = withTraceparents(
            paymentRecords(records, 70 + round, `tracing${round}`),
            mode.sampledShare,
          );
          await bareProduce(ctx.brokers, topics.requests, input, 100, 8);
          await using consumer = await startService("consumer", {
            port: freePort("127.0.0.1"),
            brokers: ctx.brokers,
            topics,
            groupId,
            env: { ...ctx.serviceEnv.consumer, ...exportTo("consumer"), ...mode.env },
          });
          const drain = await observePipelineDrain({
            brokers: ctx.brokers,
            groupId,
            topics,
            expected: records,
            cpus: [procCpuClock(consumer.pid), jaegerClock],
            urls: [consumer.url],
            failure: () =>
              consumer.hasExited ? `the consumer exited:\n${consumer.tail(15)}` : undefined,
          });
          consumerRuns.get(mode.name)!.push({
            rate: drain.recordsPerSec,
            cpuMicros: microsPerRecord(drain.cpu[0]!.cpuSeconds, drain.records),
            jaegerCpuMicros: microsPerRecord(drain.cpu[1]!.cpuSeconds, drain.records),
            rssMiB: await rss([undefined, consumer]),
          });
        }
      }
      pushRows(
        ctx,
        `consumer draining ${records} records (both stages)`,
        "rec/s",
        modes,
        consumerRuns,
      );
    });
  } finally {
    await jaeger.stop();
  }
}

/** One row per mode; the tracing modes compared with tracing off. */
function pushRows(
  ctx: BenchContext,
  what: string,
  unit: "payments/s" | "rec/s",
  modes: readonly TracingMode[],
  runs: Map<string, Run[]>,
): void {
  const off = runs.get(modes[0]!.name)!;
  const offRate = mean(off.map((r) => r.rate));
  for (const [index, mode] of modes.entries()) {
    const list = runs.get(mode.name)!;
    const cpu = list.map((r) => r.cpuMicros);
    const backend = list.map((r) => r.jaegerCpuMicros);
    const row = throughputRow({
      group: "tracing",
      name: `${what}, ${mode.name}`,
      value: mean(list.map((r) => r.rate)),
      unit,
      ...(index === 0 ? {} : { ceiling: { name: modes[0]!.name, value: offRate } }),
      cpuMicrosPerRecord: mean(cpu),
      ...(list.at(-1)?.rssMiB ? { rssMiB: list.at(-1)!.rssMiB } : {}),
      note: `${list.length} runs: ${spread(list.map((r) => r.rate))} ${unit}; CPU µs per ` +
        `payment ${cpu.map((c) => c.toFixed(0)).join(" / ")}` +
        (index === 0
          ? ""
          : `; Jaeger's CPU µs per payment ${backend.map((c) => c.toFixed(0)).join(" / ")}`) +
        (list[0]?.note ? `; ${list.map((r) => r.note).join(" / ")}` : ""),
    });
    if (mode.name.includes("default")) row.target = ratioTarget(row.ratio, 0.9, modes[0]!.name);
    ctx.rows.push(row);
  }
}
