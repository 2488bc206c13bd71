import assert from "node:assert/strict";
import process from "node:process";
import {
  type CpuClock,
  metricsCpuClock,
  microsPerRecord,
  parseProcStat,
  procCpuClock,
  selfCpuSpan,
  startCpuSpan,
} from "./process_cpu.ts";

// A real line from /proc/<pid>/stat of a JVM (fields 14 and 15: utime 1520, stime 233).
const JAVA_STAT = "4242 (java) S 4100 4242 4100 0 -1 4194560 38650 0 12 0 1520 233 0 0 20 0 " +
  "41 0 9015 6102233088 76233 18446744073709551615 1 1 0 0 0 0 0 4096 16796879 0 0 0 17 1 0 0";

Deno.test("parseProcStat reads utime and stime, fields 14 and 15", () => {
  assert.deepEqual(parseProcStat(JAVA_STAT), { userTicks: 1520, systemTicks: 233 });
});

Deno.test("parseProcStat counts fields after the last ')' of a command name with spaces and parentheses", () => {
  const stat = JAVA_STAT.replace("(java)", "(a) b (c))");
  assert.deepEqual(parseProcStat(stat), { userTicks: 1520, systemTicks: 233 });
});

Deno.test("parseProcStat refuses a line it cannot read", () => {
  assert.throws(() => parseProcStat("4242 java S 1 2"), /Cannot read utime\/stime/);
  assert.throws(() => parseProcStat("4242 (java) S 1 2 3"), /Cannot read utime\/stime/);
});

Deno.test("a CPU span is the difference of two clock readings", async () => {
  const readings = [10.25, 12.75];
  const clock: CpuClock = () => Promise.resolve(readings.shift()!);
  const span = await startCpuSpan(clock);
  const used = await span.stop();
  assert.equal(used.cpuSeconds, 2.5);
  assert.ok(used.wallSeconds >= 0);
});

Deno.test("microsPerRecord is CPU microseconds per record, NaN for no record", () => {
  assert.equal(microsPerRecord(0.5, 10_000), 50);
  assert.ok(Number.isNaN(microsPerRecord(0.5, 0)));
});

Deno.test("this process' /proc clock agrees with getrusage over a fixed amount of CPU work", async () => {
  // Burn 300 ms of CPU as getrusage (node:process cpuUsage) counts it, however busy the
  // machine is, and compare: the two clocks differ by their tick (10 ms) at each end.
  const span = await startCpuSpan(procCpuClock(Deno.pid));
  const start = process.cpuUsage();
  let spin = 0;
  const used = () => {
    const u = process.cpuUsage(start);
    return (u.user + u.system) / 1e6;
  };
  while (used() < 0.3) spin += Math.sqrt(spin + 1);
  const rusage = used();
  const proc = await span.stop();
  assert.ok(spin > 0);
  assert.ok(
    Math.abs(proc.cpuSeconds - rusage) <= 0.03,
    `/proc says ${proc.cpuSeconds} s, getrusage ${rusage} s`,
  );
});

Deno.test("selfCpuSpan measures this process between two moments", async () => {
  const span = selfCpuSpan();
  const start = process.cpuUsage();
  while (process.cpuUsage(start).user < 100_000) { /* spin */ }
  const used = await span.stop();
  assert.ok(used.cpuSeconds >= 0.08, `used ${used.cpuSeconds} s of CPU`);
});

Deno.test("procCpuClock names a process that is not there", async () => {
  await assert.rejects(procCpuClock(2 ** 30)(), /Cannot read the CPU time of process 1073741824/);
});

Deno.test("metricsCpuClock reads process_cpu_seconds_total and fails without it", async () => {
  let body = "# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total 3.25\n";
  await using server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen() {} },
    () => new Response(body),
  );
  const url = `http://127.0.0.1:${server.addr.port}/metrics`;
  assert.equal(await metricsCpuClock(url)(), 3.25);
  body = "process_resident_memory_bytes 1\n";
  await assert.rejects(metricsCpuClock(url)(), /without process_cpu_seconds_total/);
});
