import assert from "node:assert/strict";
import { Latency, LoadStats } from "./stats.ts";

Deno.test("latency percentiles come from the HDR histogram to 3 significant digits", () => {
  const latency = new Latency();
  for (let i = 1; i <= 1000; i++) latency.record(i / 10); // 0.1 .. 100 ms
  const s = latency.summary();
  assert.equal(s.count, 1000);
  assert.ok(Math.abs(s.p50 - 50) / 50 < 0.002, `p50 ${s.p50}`);
  assert.ok(Math.abs(s.p99 - 99) / 99 < 0.002, `p99 ${s.p99}`);
  assert.ok(Math.abs(s.max - 100) / 100 < 0.002, `max ${s.max}`);
  assert.ok(s.p50 <= s.p90 && s.p90 <= s.p99 && s.p99 <= s.p999 && s.p999 <= s.max);
});

Deno.test("an empty histogram summarizes to zeros; negative values count as 0", () => {
  const latency = new Latency();
  assert.deepEqual(latency.summary(), {
    count: 0,
    mean: 0,
    p50: 0,
    p90: 0,
    p99: 0,
    p999: 0,
    max: 0,
  });
  latency.record(-3);
  assert.equal(latency.summary().max, 0);
});

Deno.test("payments are counted by what their request came to", () => {
  const stats = new LoadStats();
  stats.started(10, 0, 10);
  stats.started(10, 25, 10);
  stats.started(10, 0, 10);
  stats.started(10, 0, 10);
  assert.equal(stats.pending, 40);
  stats.finished({ kind: "response", status: 202, payments: 10, latencyMs: 3 });
  stats.finished({ kind: "response", status: 400, payments: 10, latencyMs: 1 });
  stats.finished({ kind: "response", status: 503, payments: 10, latencyMs: 1 });
  stats.finished({ kind: "error", error: "timeout", payments: 10, latencyMs: 1000 });
  assert.deepEqual([stats.sent, stats.accepted, stats.rejected, stats.errors], [40, 10, 10, 20]);
  assert.equal(stats.pending, 0);
  assert.deepEqual(Object.fromEntries(stats.byStatus), { 202: 1, 400: 1, 503: 1, timeout: 1 });
  stats.started(10, 0, 10);
  stats.finished({ kind: "response", status: 503, payments: 10, latencyMs: 0.5, shed: true });
  assert.deepEqual([stats.shed, stats.errors, stats.pending], [10, 20, 0]);
  assert.equal(stats.byStatus.get("503 shed"), 1);
  assert.equal(stats.acceptedLatency.count, 1);
  assert.equal(stats.shedLatency.count, 1);
  assert.equal(stats.shedLatency.percentile(50), 0.5);
  assert.equal(stats.lateRequests, 1);
  assert.equal(stats.maxLateMs, 25);
});
