/**
 * Bookkeeping of `--verify`: how many results each payment id of the run must get
 * (one per accepted send), what actually arrived on `payment_results`, and the
 * verdict: missing results, extra results, double approvals, outcomes by type and
 * end-to-end latency.
 *
 * @module
 */
import { Latency, type LatencySummary } from "./stats.ts";

/** One result record as the verifier read it. */
export interface ObservedResult {
  paymentId: string;
  outcome: string;
  /** Kafka record timestamp of the result (ms since the epoch). */
  timestampMs: number;
  /** The payment's `created_at`: when the producer accepted it (ms since the epoch). */
  createdAtMs?: number;
  /** When the verifier read the committed result (ms since the epoch). */
  readAtMs?: number;
}

/** The verdict of a verification. */
export interface VerifySummary {
  /** Results the run must see: one per accepted payment send. */
  expected: number;
  /** Results of this run's payment ids that were read. */
  received: number;
  /** Accepted sends without a result. */
  missing: number;
  /** Results beyond one per accepted send (redelivered or written twice). */
  extra: number;
  /** Payment ids approved more than once. */
  doubleApprovals: number;
  /** Results for payments the API rejected (a rejected payment was written anyway). */
  unexpected: number;
  /** Results for payments whose request failed (timeout, 5xx): they did reach Kafka. */
  resolvedUnknown: number;
  /** Results for payments whose request was shed (503 overloaded): must be 0. */
  shedWritten: number;
  outcomes: Record<string, number>;
  /** Producer accept (`created_at`) to the committed result's record timestamp. */
  endToEnd: LatencySummary;
  /**
   * Producer accept to the moment a read_committed reader had the result: includes the
   * transaction commit and the reader's fetch wait, so it bounds `endToEnd` from above.
   */
  visible: LatencySummary;
  /** Whether the wait ended because the timeout passed. */
  timedOut: boolean;
  waitedMs: number;
  /** No missing result, no double approval and nothing written of a shed request. */
  ok: boolean;
}

interface Entry {
  expected: number;
  seen: number;
  approved: number;
  /** The id was in a rejected (4xx) or failed (timeout/5xx) request. */
  rejected?: boolean;
  unknown?: boolean;
  /** The id was in a request the producer shed: refused before anything was written. */
  shed?: boolean;
}

/** Tracks expectations and results of one run, keyed by payment id. */
export class ResultTracker {
  readonly #entries = new Map<string, Entry>();
  readonly #outcomes = new Map<string, number>();
  readonly endToEnd = new Latency();
  readonly visible = new Latency();
  #expected = 0;
  #received = 0;
  #satisfied = 0;

  /** `onResult` sees every result with its end-to-end latency (ms) when known. */
  constructor(readonly onResult?: (outcome: string, endToEndMs?: number) => void) {}

  #entry(id: string): Entry {
    let entry = this.#entries.get(id);
    if (!entry) {
      entry = { expected: 0, seen: 0, approved: 0 };
      this.#entries.set(id, entry);
    }
    return entry;
  }

  /** These ids were accepted (2xx): each needs one more result. */
  accepted(ids: Iterable<string>): void {
    for (const id of ids) {
      const entry = this.#entry(id);
      entry.expected += 1;
      this.#expected += 1;
      if (entry.seen >= entry.expected) this.#satisfied += 1;
    }
  }

  /** These ids were rejected (4xx): they must get no result. */
  rejected(ids: Iterable<string>): void {
    for (const id of ids) this.#entry(id).rejected = true;
  }

  /** These ids' request was shed (503 overloaded): they must get no result. */
  shed(ids: Iterable<string>): void {
    for (const id of ids) this.#entry(id).shed = true;
  }

  /** These ids' requests failed without an answer: a result may or may not come. */
  unknown(ids: Iterable<string>): void {
    for (const id of ids) this.#entry(id).unknown = true;
  }

  /** Records one result read from Kafka. */
  observe(result: ObservedResult): void {
    const entry = this.#entry(result.paymentId);
    entry.seen += 1;
    this.#received += 1;
    if (entry.seen <= entry.expected) this.#satisfied += 1;
    if (result.outcome === "APPROVED") entry.approved += 1;
    this.#outcomes.set(result.outcome, (this.#outcomes.get(result.outcome) ?? 0) + 1);
    let endToEndMs: number | undefined;
    if (result.createdAtMs !== undefined && Number.isFinite(result.createdAtMs)) {
      endToEndMs = result.timestampMs - result.createdAtMs;
      this.endToEnd.record(endToEndMs);
      if (result.readAtMs !== undefined) this.visible.record(result.readAtMs - result.createdAtMs);
    }
    this.onResult?.(result.outcome, endToEndMs);
  }

  /** Expected results still outstanding. */
  get outstanding(): number {
    return this.#expected - this.#satisfied;
  }

  get expected(): number {
    return this.#expected;
  }

  get received(): number {
    return this.#received;
  }

  /** The verdict as of now. */
  summary(timing: { timedOut: boolean; waitedMs: number }): VerifySummary {
    let missing = 0, extra = 0, doubleApprovals = 0, unexpected = 0, resolvedUnknown = 0;
    let shedWritten = 0;
    for (const entry of this.#entries.values()) {
      if (entry.seen < entry.expected) missing += entry.expected - entry.seen;
      const surplus = entry.seen - entry.expected;
      if (surplus > 0) {
        // A failed request's payment may have reached Kafka after all; a rejected
        // one never may.
        if (entry.unknown) resolvedUnknown += surplus;
        // A shed request was refused before anything was sent: a result proves otherwise.
        else if (entry.shed) shedWritten += surplus;
        else if (entry.rejected && entry.expected === 0) unexpected += surplus;
        else extra += surplus;
      }
      if (entry.approved > 1) doubleApprovals += 1;
    }
    return {
      expected: this.#expected,
      received: this.#received,
      missing,
      extra,
      doubleApprovals,
      unexpected,
      resolvedUnknown,
      shedWritten,
      outcomes: Object.fromEntries([...this.#outcomes].sort(([a], [b]) => a.localeCompare(b))),
      endToEnd: this.endToEnd.summary(),
      visible: this.visible.summary(),
      timedOut: timing.timedOut,
      waitedMs: Math.round(timing.waitedMs),
      ok: missing === 0 && doubleApprovals === 0 && shedWritten === 0,
    };
  }
}
