import assert from "node:assert/strict";
import { formatReport, type LoadReport } from "./report.ts";

const latency = { count: 400, mean: 4, p50: 3.1, p90: 6.2, p99: 12.4, p999: 30, max: 45.5 };

function report(overrides: Partial<LoadReport> = {}): LoadReport {
  return {
    run: {
      runId: "abc123",
      seed: 7,
      url: "http://localhost:8000",
      batchSize: 50,
      concurrency: 8,
      offeredRate: 1000,
      startedAt: "2026-01-01T00:00:00.000Z",
      elapsedMs: 20_150,
      interrupted: false,
    },
    payments: {
      sent: 20_000,
      accepted: 19_000,
      rejected: 1000,
      errors: 0,
      shed: 0,
      duplicatesAccepted: 950,
      invalidSent: 1000,
      invalidAccepted: 0,
    },
    requests: { total: 400, byStatus: { "202": 380, "400": 20 } },
    rates: { sent: 1000, accepted: 943 },
    pacing: { offeredRate: 1000, sentRate: 1000, lateRequests: 0, maxLateMs: 2, kept: true },
    latencyMs: latency,
    acceptedLatencyMs: latency,
    shedLatencyMs: { count: 0, mean: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0 },
    ...overrides,
  };
}

Deno.test("the report shows rates, counts with shares, statuses and latency percentiles", () => {
  const text = formatReport(report());
  assert.match(text, /^Load run abc123 \(seed 7\)\n=+\n/);
  assert.match(text, /rate\s+offered 1,000\/s, sent 1,000\/s \(kept\)/);
  assert.match(text, /accepted\s+19,000 \(95\.0%\)/);
  assert.match(text, /rejected\s+1,000 \(5\.0%\)\s+\(invalid sent: 1,000\)/);
  assert.match(text, /202\s+380/);
  assert.match(text, /400\s+20/);
  assert.match(text, /latency\s+p50 3\.10\s+p90 6\.20\s+p99 12\.4\s+p99\.9 30\.0\s+max 45\.5 ms/);
  assert.doesNotMatch(text, /Verification/);
  assert.match(text, /shed\s+0 \(0\.0%\)/);
  assert.doesNotMatch(text, /^\s+shed\s+p50/m, "no shed latency line without shed answers");
});

Deno.test("shed answers are reported apart from errors, with their own latency and verdict line", () => {
  const text = formatReport(report({
    payments: { ...report().payments, accepted: 15_000, rejected: 0, shed: 5000 },
    requests: { total: 400, byStatus: { "202": 300, "503 shed": 100 } },
    acceptedLatencyMs: { ...latency, p99: 180 },
    shedLatencyMs: { ...latency, p50: 0.9, p99: 2.5 },
    verify: {
      expected: 15_000,
      received: 15_001,
      missing: 0,
      extra: 0,
      doubleApprovals: 0,
      unexpected: 0,
      resolvedUnknown: 0,
      shedWritten: 1,
      outcomes: { APPROVED: 15_001 },
      endToEnd: latency,
      visible: latency,
      timedOut: false,
      waitedMs: 1000,
      ok: false,
    },
  }));
  assert.match(text, /shed\s+5,000 \(25\.0%\)\s+\(503 overloaded: refused, nothing written\)/);
  assert.match(text, /errors\s+0 \(0\.0%\)/);
  assert.match(text, /503 shed\s+100/);
  assert.match(text, /^\s+accepted\s+p50 3\.10.*p99 180 /m);
  assert.match(text, /^\s+shed\s+p50 0\.90.*p99 2\.50 /m);
  assert.match(text, /for shed reqs\s+1 \(must be 0\)/);
  assert.match(text, /Verification: FAILED/);
});

Deno.test("a rate that was not kept is called out", () => {
  const text = formatReport(report({
    pacing: { offeredRate: 1000, sentRate: 800, lateRequests: 120, maxLateMs: 250, kept: false },
  }));
  assert.match(text, /NOT KEPT: 120 requests started >10 ms late, max 250 ms behind/);
});

Deno.test("verification results and the interrupted flag are shown", () => {
  const text = formatReport(report({
    run: { ...report().run, interrupted: true },
    verify: {
      expected: 19_000,
      received: 18_999,
      missing: 1,
      extra: 0,
      doubleApprovals: 0,
      unexpected: 0,
      resolvedUnknown: 0,
      shedWritten: 0,
      outcomes: { APPROVED: 17_000, DECLINED: 1049, DUPLICATE: 950 },
      endToEnd: latency,
      visible: { ...latency, p50: 20 },
      timedOut: true,
      waitedMs: 60_000,
      ok: false,
    },
  }));
  assert.match(text, /INTERRUPTED/);
  assert.match(text, /Verification: FAILED \(timed out\)/);
  assert.match(text, /missing\s+1\n/);
  assert.match(text, /outcomes\s+APPROVED 17,000, DECLINED 1,049, DUPLICATE 950/);
  assert.match(text, /end-to-end\s+p50 3\.10/);
  assert.match(text, /visible\s+p50 20\.0/);
});

Deno.test("a closed-model run shows the rate it managed", () => {
  const { offeredRate: _, ...run } = report().run;
  const text = formatReport(report({
    run,
    pacing: { sentRate: 5432.1, lateRequests: 0, maxLateMs: 0, kept: true },
  }));
  assert.match(text, /closed model/);
  assert.match(text, /rate\s+sent 5,432\/s\n/);
});
