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
      duplicatesAccepted: 950,
      invalidSent: 1000,
      invalidAccepted: 0,
    },
    requests: { total: 400, byStatus: { "202": 380, "400": 20 } },
    rates: { sent: 1000, accepted: 943 },
    pacing: { offeredRate: 1000, sentRate: 1000, lateRequests: 0, maxLateMs: 2, kept: true },
    latencyMs: latency,
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
