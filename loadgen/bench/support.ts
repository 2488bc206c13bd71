/**
 * Small helpers of `deno task bench`: machine description, load options for a row,
 * committed offsets read through the admin API, `KEY=VALUE` service environments, and a
 * deadline for the bare client loops.
 *
 * @module
 */
import { Kafka, logLevel } from "kafkajs";
import { KAFKA_VERSION } from "@payments/kafka/launcher";
import type { LoadOptions } from "../options.ts";

/** The machine a bench ran on: CPUs, RAM, load and versions. */
export async function machine() {
  const cpuinfo = await Deno.readTextFile("/proc/cpuinfo").catch(() => "");
  const meminfo = await Deno.readTextFile("/proc/meminfo").catch(() => "");
  // A missing binary throws from output() itself, not from its promise.
  const javaOut = await (async () => {
    try {
      const o = await new Deno.Command("java", { args: ["-version"], stderr: "piped" }).output();
      return new TextDecoder().decode(o.stderr).split("\n")[0]?.trim();
    } catch {
      return undefined;
    }
  })();
  const memKb = Number(/MemTotal:\s+(\d+)/.exec(meminfo)?.[1] ?? 0);
  return {
    nproc: navigator.hardwareConcurrency,
    cpu: /model name\s*:\s*(.*)/.exec(cpuinfo)?.[1]?.trim(),
    ramGiB: Math.round(memKb / 1024 / 1024 * 10) / 10,
    loadAverage: Deno.loadavg(),
    deno: Deno.version.deno,
    v8: Deno.version.v8,
    java: javaOut,
    kafka: KAFKA_VERSION,
    kafkajs: "2.2.4",
    // As pinned in deno.json; the package exports no version.
    platformaticKafka: "2.12.1",
  };
}

/** Complete load options for a bench row: defaults plus `fields`. */
export function loadOptions(fields: Partial<LoadOptions> & Pick<LoadOptions, "url">): LoadOptions {
  return {
    concurrency: 8,
    batchSize: 1,
    invalidRatio: 0,
    duplicateRatio: 0,
    seed: 1,
    runId: `bench${crypto.randomUUID().slice(0, 6)}`,
    verify: false,
    retryShed: false,
    brokers: [],
    resultsTopic: "",
    verifyTimeoutMs: 60_000,
    requestTimeoutMs: 10_000,
    progress: "none",
    quiet: true,
    watchRss: [],
    watchEveryMs: 10_000,
    ...fields,
  };
}

/** Sum of a group's committed offsets on `topic` (partitions without one count 0). */
export async function committed(
  brokers: string[],
  groupId: string,
  topic: string,
): Promise<number> {
  const admin = new Kafka({ clientId: "bench-lag", brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return (offsets?.partitions ?? []).reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
  } finally {
    await admin.disconnect();
  }
}

/** Resident memory of a process now and at its peak (VmRSS, VmHWM), in MiB, from the kernel. */
export async function processMemory(pid: number): Promise<{ rssMiB: number; peakMiB: number }> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  const mib = (field: string) => {
    const kb = new RegExp(`^${field}:\\s+(\\d+) kB$`, "m").exec(status)?.[1];
    if (kb === undefined) throw new Error(`/proc/${pid}/status has no ${field} line`);
    return Number(kb) / 1024;
  };
  return { rssMiB: mib("VmRSS"), peakMiB: mib("VmHWM") };
}

/** Reads `KEY=VALUE` pairs into an environment record. */
export function envPairs(pairs: string[], option: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const pair of pairs) {
    const at = pair.indexOf("=");
    if (at < 1) throw new Error(`${option} takes KEY=VALUE (got "${pair}")`);
    env[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return env;
}

/** Cumulative bucket counts (`le` in seconds to count) of one histogram series. */
export function histogramBuckets(
  exposition: string,
  name: string,
  labels: Record<string, string>,
): Map<number, number> {
  const buckets = new Map<number, number>();
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of exposition.split("\n")) {
    if (!line.startsWith(`${name}_bucket{`)) continue;
    const close = line.lastIndexOf("}");
    const set = line.slice(name.length + 8, close);
    if (!wanted.every((pair) => set.split(",").includes(pair))) continue;
    const le = /(?:^|,)le="([^"]+)"/.exec(set)?.[1];
    if (le === undefined) continue;
    buckets.set(le === "+Inf" ? Infinity : Number(le), Number(line.slice(close + 1).trim()));
  }
  return buckets;
}

/**
 * The upper bound of the bucket holding quantile `q` of the observations made between
 * two scrapes of a histogram (Prometheus' `histogram_quantile` without interpolation,
 * so the answer is "at most this"). Undefined when nothing was observed.
 */
export function bucketQuantile(
  before: Map<number, number>,
  after: Map<number, number>,
  q: number,
): number | undefined {
  const bounds = [...after.keys()].sort((a, b) => a - b);
  const delta = bounds.map((le) => (after.get(le) ?? 0) - (before.get(le) ?? 0));
  const total = delta.at(-1) ?? 0;
  if (total <= 0) return undefined;
  const index = delta.findIndex((count) => count >= q * total);
  return bounds[index];
}

/**
 * Resolves once `finished` does; rejects with `reason()` (read at the deadline, so it can
 * say how far the run got) when that takes longer than `ms`.
 */
export async function finishedWithin(
  finished: Promise<unknown>,
  ms: number,
  reason: () => string,
): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(reason())), ms);
  });
  try {
    await Promise.race([finished, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
