/**
 * CPU a process used over an interval, for the "CPU µs per record" figure of the drain
 * rows. A {@linkcode CpuClock} reads a process' cumulative CPU seconds (user + system,
 * every thread: JIT, GC and I/O threads count, as they are part of what a record
 * costs); {@linkcode startCpuSpan} takes one reading at the start of an interval and
 * one at its end. Read a process' clock before it exits: the kernel forgets it then.
 *
 * @example
 * ```ts
 * const span = await startCpuSpan(procCpuClock(child.pid));
 * // ... the drain ...
 * const { cpuSeconds } = await span.stop();
 * microsPerRecord(cpuSeconds, 30_000);
 * ```
 *
 * @module
 */
import { metricValue } from "@payments/shared/metrics";

/** Cumulative CPU seconds a process has used since it started. */
export type CpuClock = () => Promise<number>;

/** CPU and wall time of one interval. */
export interface CpuSpan {
  cpuSeconds: number;
  wallSeconds: number;
}

/**
 * User and system ticks from the text of `/proc/<pid>/stat` (fields 14 and 15 of
 * proc(5)). The command name (field 2) is in parentheses and may itself hold spaces
 * and parentheses, so fields are counted from the last `)`.
 */
export function parseProcStat(stat: string): { userTicks: number; systemTicks: number } {
  const close = stat.lastIndexOf(")");
  // After "pid (comm)" come field 3 (state) onwards: utime is field 14, stime 15.
  const fields = close < 0 ? [] : stat.slice(close + 1).trim().split(/\s+/);
  const userTicks = Number(fields[11]);
  const systemTicks = Number(fields[12]);
  if (!Number.isInteger(userTicks) || !Number.isInteger(systemTicks)) {
    throw new Error(`Cannot read utime/stime from /proc/<pid>/stat: "${stat.slice(0, 200)}"`);
  }
  return { userTicks, systemTicks };
}

let ticksPerSecond: Promise<number> | undefined;

/** The kernel's clock ticks per second (`getconf CLK_TCK`, 100 on every usual Linux). */
export function clockTicksPerSecond(): Promise<number> {
  return ticksPerSecond ??= (async () => {
    const out = await new Deno.Command("getconf", { args: ["CLK_TCK"], stdout: "piped" })
      .output().catch((error) => {
        throw new Error(`Cannot read CLK_TCK: \`getconf\` did not run (${error.message})`);
      });
    const ticks = Number(new TextDecoder().decode(out.stdout).trim());
    if (!out.success || !Number.isInteger(ticks) || ticks <= 0) {
      throw new Error(`Cannot read CLK_TCK: \`getconf CLK_TCK\` answered "${ticks}"`);
    }
    return ticks;
  })();
}

/**
 * The CPU clock of process `pid` from `/proc/<pid>/stat` (Linux; 10 ms resolution at
 * 100 ticks per second). Works for any process: a JVM, a service, or this one
 * (`Deno.pid`).
 */
export function procCpuClock(pid: number): CpuClock {
  return async () => {
    const [stat, hz] = await Promise.all([
      Deno.readTextFile(`/proc/${pid}/stat`).catch((error) => {
        throw new Error(`Cannot read the CPU time of process ${pid}: ${error.message}`);
      }),
      clockTicksPerSecond(),
    ]);
    const { userTicks, systemTicks } = parseProcStat(stat);
    return (userTicks + systemTicks) / hz;
  };
}

/**
 * The CPU clock of a service from `process_cpu_seconds_total` on its `/metrics`
 * (prom-client's default metrics), for processes known by URL rather than pid.
 */
export function metricsCpuClock(metricsUrl: string): CpuClock {
  return async () => {
    const response = await fetch(metricsUrl, { signal: AbortSignal.timeout(5000) });
    const text = await response.text();
    const seconds = response.ok ? metricValue(text, "process_cpu_seconds_total") : undefined;
    if (seconds === undefined) {
      throw new Error(
        `${metricsUrl} answered ${response.status} without process_cpu_seconds_total`,
      );
    }
    return seconds;
  };
}

/** Reads `clock` now; `stop()` reads it again and returns the CPU and wall time between. */
export async function startCpuSpan(clock: CpuClock): Promise<{ stop(): Promise<CpuSpan> }> {
  const startedAt = performance.now();
  const startCpu = await clock();
  return {
    async stop() {
      const cpu = await clock();
      return { cpuSeconds: cpu - startCpu, wallSeconds: (performance.now() - startedAt) / 1000 };
    },
  };
}

/**
 * Starts a CPU span of this process (`Deno.pid`) without awaiting: `stop()` ends it.
 * For loops that notice their first and last record inside a callback, so both
 * readings are started right there.
 */
export function selfCpuSpan(): { stop(): Promise<CpuSpan> } {
  const started = startCpuSpan(procCpuClock(Deno.pid));
  return { stop: () => started.then((span) => span.stop()) };
}

/** CPU microseconds per record; NaN when no record was counted. */
export function microsPerRecord(cpuSeconds: number, records: number): number {
  return records > 0 ? (cpuSeconds * 1e6) / records : NaN;
}
