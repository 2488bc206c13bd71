/**
 * The final report of a load run: one JSON-ready object ({@linkcode LoadReport}) and
 * its rendering as a table readable at a glance.
 *
 * @module
 */
import type { LatencySummary } from "./stats.ts";
import type { PacingSummary } from "./scheduler.ts";
import type { VerifySummary } from "./tracker.ts";
import type { RssSeries } from "./rss_sampler.ts";

/** Everything a run measured. */
export interface LoadReport {
  run: {
    runId: string;
    seed: number;
    url: string;
    batchSize: number;
    concurrency: number;
    offeredRate?: number;
    startedAt: string;
    /** From the first send to the last answer. */
    elapsedMs: number;
    /** Stopped by Ctrl-C (the report covers what was done until then). */
    interrupted: boolean;
  };
  payments: {
    sent: number;
    accepted: number;
    rejected: number;
    /** Payments of 5xx answers other than shed, timeouts, network errors: fate unknown. */
    errors: number;
    /** Payments of requests the producer shed (503 overloaded): refused, nothing written. */
    shed: number;
    /** Resends of an accepted id that were accepted again (must come back DUPLICATE). */
    duplicatesAccepted: number;
    /** Payments in requests carrying a deliberately invalid payment. */
    invalidSent: number;
    /** Requests with a deliberately invalid payment that the API accepted (an API bug). */
    invalidAccepted: number;
  };
  requests: { total: number; byStatus: Record<string, number> };
  /** Payments per second. */
  rates: { sent: number; accepted: number };
  pacing: PacingSummary;
  /** Per-request latency, send to answer. */
  latencyMs: LatencySummary;
  /** The same, of 2xx answers only. */
  acceptedLatencyMs: LatencySummary;
  /** The same, of shed answers only. */
  shedLatencyMs: LatencySummary;
  verify?: VerifySummary;
  /** RSS of the watched services over the run (`--watch-rss`). */
  memory?: RssSeries[];
}

const n = (value: number) => value.toLocaleString("en-US");
const ms = (value: number) =>
  value < 10 ? value.toFixed(2) : value < 100 ? value.toFixed(1) : value.toFixed(0);
const pct = (part: number, whole: number) =>
  whole === 0 ? "" : ` (${(100 * part / whole).toFixed(1)}%)`;

function table(rows: Array<[string, string]>): string[] {
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`);
}

function latencyLine(l: LatencySummary): string {
  if (l.count === 0) return "no samples";
  return `p50 ${ms(l.p50)}  p90 ${ms(l.p90)}  p99 ${ms(l.p99)}  p99.9 ${ms(l.p999)}  max ${
    ms(l.max)
  } ms`;
}

/** The report as a table. */
export function formatReport(report: LoadReport): string {
  const { run, payments: p, pacing } = report;
  const lines: string[] = [];
  const title = `Load run ${run.runId} (seed ${run.seed})${run.interrupted ? "  INTERRUPTED" : ""}`;
  lines.push(title, "=".repeat(title.length));
  const shape = [
    `${run.url}`,
    `batch ${run.batchSize}`,
    `concurrency ${run.concurrency}`,
    run.offeredRate !== undefined ? `offered ${n(run.offeredRate)}/s (open model)` : "closed model",
  ].join(", ");
  const rate = run.offeredRate === undefined
    ? `sent ${n(Math.round(pacing.sentRate))}/s`
    : `offered ${n(run.offeredRate)}/s, sent ${n(Math.round(pacing.sentRate))}/s` +
      (pacing.kept
        ? " (kept)"
        : `  NOT KEPT: ${n(pacing.lateRequests)} requests started >10 ms late, ` +
          `max ${ms(pacing.maxLateMs)} ms behind`);
  lines.push(
    ...table([
      ["target", shape],
      ["duration", `${(run.elapsedMs / 1000).toFixed(1)} s`],
      ["rate", rate],
      ["throughput", `${n(Math.round(report.rates.accepted))} accepted payments/s`],
      ["payments", `${n(p.sent)} sent`],
      ["  accepted", `${n(p.accepted)}${pct(p.accepted, p.sent)}`],
      [
        "  rejected",
        `${n(p.rejected)}${pct(p.rejected, p.sent)}  (invalid sent: ${n(p.invalidSent)})`,
      ],
      ["  shed", `${n(p.shed)}${pct(p.shed, p.sent)}  (503 overloaded: refused, nothing written)`],
      ["  errors", `${n(p.errors)}${pct(p.errors, p.sent)}`],
      ["  resent ids", `${n(p.duplicatesAccepted)} accepted (must come back DUPLICATE)`],
      ["requests", `${n(report.requests.total)}`],
      ...Object.entries(report.requests.byStatus).map(([status, count]) =>
        [`  ${status}`, n(count)] as [string, string]
      ),
      ["latency", latencyLine(report.latencyMs)],
      ...(p.shed > 0
        ? [
          ["  accepted", latencyLine(report.acceptedLatencyMs)] as [string, string],
          ["  shed", latencyLine(report.shedLatencyMs)] as [string, string],
        ]
        : []),
    ]),
  );
  const v = report.verify;
  if (v) {
    lines.push("", `Verification: ${v.ok ? "OK" : "FAILED"}${v.timedOut ? " (timed out)" : ""}`);
    lines.push(
      ...table([
        [
          "results",
          `${n(v.received)} read, ${n(v.expected)} expected, waited ${
            (v.waitedMs / 1000).toFixed(1)
          } s`,
        ],
        ["missing", n(v.missing)],
        ["double approvals", n(v.doubleApprovals)],
        ["extra results", n(v.extra)],
        ["for rejected", n(v.unexpected)],
        ["for failed reqs", n(v.resolvedUnknown)],
        ["for shed reqs", `${n(v.shedWritten)} (must be 0)`],
        [
          "outcomes",
          Object.entries(v.outcomes).map(([o, c]) => `${o} ${n(c)}`).join(", ") || "none",
        ],
        ["end-to-end", latencyLine(v.endToEnd)],
        ["  visible", latencyLine(v.visible)],
      ]),
    );
  }
  if (report.memory?.length) {
    lines.push("", "Memory (RSS, MiB)");
    lines.push(...table(report.memory.map((m) => [
      m.url,
      m.samples.length === 0
        ? "no samples"
        : `first ${m.firstMiB}, max ${m.maxMiB}, last ${m.lastMiB}` +
          (m.growthMiB !== undefined
            ? `, growth ${m.growthMiB >= 0 ? "+" : ""}${m.growthMiB} after warm-up`
            : "") +
          ` (${m.samples.length} samples)`,
    ])));
  }
  return lines.join("\n");
}
