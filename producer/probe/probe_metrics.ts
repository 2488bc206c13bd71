/**
 * The end-to-end probe's metrics, on the producer's `/metrics`: how long a client waits
 * from sending a payment to reading its decision, and why probes failed. The probe's own
 * requests are in no other metric (`../middleware/probe_requests.ts`).
 *
 * @module
 */
import { Counter, type Histogram, type Registry } from "prom-client";
import { createExemplarHistogram } from "@payments/shared/metrics";

/** Why a probe failed (the `reason` label of `pipeline_probe_failures_total`). */
export const PROBE_FAILURE_REASONS = [
  /** `POST /payments` answered 4xx: the probe is refused (an API key no longer valid?). */
  "submit_rejected",
  /** `POST /payments` answered 5xx: Kafka unavailable, or the producer shedding. */
  "submit_unavailable",
  /** `GET /payments/{id}` answered 503: no consumer holding the answer could be asked. */
  "status_unavailable",
  /** `GET /payments/{id}` answered 404 after waiting PROBE_TIMEOUT_MS: not decided in time. */
  "not_decided",
  /** Any other answer, or one the probe cannot read. */
  "unexpected_answer",
  /** The API did not answer at all (refused, timed out). */
  "unreachable",
] as const;
/** One reason a probe failed. */
export type ProbeFailure = typeof PROBE_FAILURE_REASONS[number];

/** The probe's metrics. */
export interface ProbeMetrics {
  /** Seconds from sending the probe's payment to reading its decision (successes only). */
  duration: Histogram<string>;
  failures: Counter<"reason">;
}

/** Client-visible time to decision: tens of milliseconds when healthy, the wait at worst. */
export const PROBE_BUCKETS = [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** Registers the probe's metrics on `registry`, every failure reason at 0. */
export function createProbeMetrics(registry: Registry): ProbeMetrics {
  // Exemplars: the probe payment's id (its correlation id) in each bucket, so a slow
  // probe leads to its log lines in both services.
  const duration = createExemplarHistogram(registry, {
    name: "pipeline_probe_duration_seconds",
    help: "End-to-end probe: seconds from POST /payments of a synthetic payment to its " +
      "decision read back with GET /payments/{id}?wait= (successful probes)",
    buckets: PROBE_BUCKETS,
  });
  const failures = new Counter({
    name: "pipeline_probe_failures_total",
    help: "End-to-end probes that got no decision, by reason",
    labelNames: ["reason"] as const,
    registers: [registry],
  });
  for (const reason of PROBE_FAILURE_REASONS) failures.labels(reason).inc(0);
  return { duration, failures };
}
