/**
 * Counters and HDR latency histograms of a load run (`npm:hdr-histogram-js`):
 * values are recorded in microseconds with 3 significant digits, so percentiles
 * stay exact to 0.1% from microseconds up to minutes.
 *
 * @module
 */
import * as hdr from "hdr-histogram-js";

/** Latency percentiles in milliseconds. */
export interface LatencySummary {
  count: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
}

/** A latency histogram taking milliseconds. */
export class Latency {
  readonly #histogram = hdr.build({
    bitBucketSize: 32,
    autoResize: true,
    lowestDiscernibleValue: 1,
    numberOfSignificantValueDigits: 3,
  });

  /** Records one latency; negative values (clock skew) count as 0. */
  record(ms: number): void {
    this.#histogram.recordValue(Math.max(0, Math.round(ms * 1000)));
  }

  get count(): number {
    return this.#histogram.totalCount;
  }

  /** Value at percentile `p` (0-100) in milliseconds. */
  percentile(p: number): number {
    return this.#histogram.totalCount === 0 ? 0 : this.#histogram.getValueAtPercentile(p) / 1000;
  }

  reset(): void {
    this.#histogram.reset();
  }

  summary(): LatencySummary {
    const h = this.#histogram;
    if (h.totalCount === 0) return { count: 0, mean: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0 };
    const ms = (us: number) => Math.round(us) / 1000;
    return {
      count: h.totalCount,
      mean: ms(h.mean),
      p50: ms(h.getValueAtPercentile(50)),
      p90: ms(h.getValueAtPercentile(90)),
      p99: ms(h.getValueAtPercentile(99)),
      p999: ms(h.getValueAtPercentile(99.9)),
      max: ms(h.maxValue),
    };
  }
}

/** What became of one request; `shed` marks a 503 `overloaded` (nothing written). */
export type RequestOutcome =
  | { kind: "response"; status: number; payments: number; latencyMs: number; shed?: boolean }
  | { kind: "error"; error: "timeout" | "network"; payments: number; latencyMs: number };

/** Everything counted during a run. */
export class LoadStats {
  requests = 0;
  /** Payments sent (in requests that were started). */
  sent = 0;
  /** Payments in 2xx responses. */
  accepted = 0;
  /** Payments in 4xx responses. */
  rejected = 0;
  /** Payments in 5xx responses (other than shed), timeouts and network errors: fate unknown. */
  errors = 0;
  /** Payments in requests the producer shed (503 overloaded): certainly not written. */
  shed = 0;
  /** Payments resent on purpose (duplicate ids) that were accepted. */
  duplicatesAccepted = 0;
  /** Requests sent with a deliberately invalid payment. */
  invalidRequests = 0;
  /** Invalid requests the API accepted anyway (a bug in the API). */
  invalidAccepted = 0;
  readonly byStatus = new Map<string, number>();
  readonly latency = new Latency();
  /** Latency of 2xx answers only: what an admitted request costs under overload. */
  readonly acceptedLatency = new Latency();
  /** Latency of shed answers only: how fast the producer says no. */
  readonly shedLatency = new Latency();
  /** Latency of the current progress interval only. */
  readonly recent = new Latency();
  lateRequests = 0;
  maxLateMs = 0;

  /** Records a request's start and how far behind schedule it was. */
  started(payments: number, lateMs: number, lateThresholdMs: number): void {
    this.requests += 1;
    this.sent += payments;
    if (lateMs > lateThresholdMs) this.lateRequests += 1;
    if (lateMs > this.maxLateMs) this.maxLateMs = lateMs;
  }

  /** Records a finished request. */
  finished(outcome: RequestOutcome): void {
    const shed = outcome.kind === "response" && outcome.shed === true;
    const key = outcome.kind === "response"
      ? `${outcome.status}${shed ? " shed" : ""}`
      : outcome.error;
    this.byStatus.set(key, (this.byStatus.get(key) ?? 0) + 1);
    this.latency.record(outcome.latencyMs);
    this.recent.record(outcome.latencyMs);
    if (outcome.kind === "response" && outcome.status >= 200 && outcome.status < 300) {
      this.accepted += outcome.payments;
      this.acceptedLatency.record(outcome.latencyMs);
    } else if (shed) {
      this.shed += outcome.payments;
      this.shedLatency.record(outcome.latencyMs);
    } else if (outcome.kind === "response" && outcome.status >= 400 && outcome.status < 500) {
      this.rejected += outcome.payments;
    } else {
      this.errors += outcome.payments;
    }
  }

  /** Payments whose request has not answered yet. */
  get pending(): number {
    return this.sent - this.accepted - this.rejected - this.errors - this.shed;
  }
}
