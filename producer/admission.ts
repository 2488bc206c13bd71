/**
 * Admission control of the payment routes: two budgets decide, before anything is
 * sent to Kafka, whether a request is taken or shed (answered 503 `overloaded` at once).
 *
 * - **Queued bytes** (`PRODUCER_MAX_QUEUED_BYTES`): the bodies of the requests being
 *   read, parsed and validated, counted by their declared `Content-Length` (a body
 *   without one counts as the largest allowed). Checked on arrival, before the body is
 *   read, so a request that does not fit costs neither its body nor a JSON parse. Bytes,
 *   not requests, because reading and parsing a body costs memory in proportion to its
 *   size (a 1 MB body several MB at its peak), and a budget of requests would let a few
 *   clients with large bodies take far more than a budget of the same number of
 *   ordinary batches.
 * - **In-flight payments** (`PRODUCER_MAX_INFLIGHT_PAYMENTS`): payments handed to the
 *   publisher and not yet settled by it (waiting for their send, or in it). Checked on
 *   arrival (a full budget sheds at once) and again once the body says how many
 *   payments the request carries. This bounds the publisher's queue, so an admitted
 *   request waits behind at most this many payments, and the memory they hold.
 *
 * A request is taken whole or not at all. Pure bookkeeping: no I/O, no clock; the HTTP
 * edge that asks and answers is `middleware/admission.ts`.
 *
 * @module
 */

/** Why a request was shed (the `reason` label of `http_requests_shed_total`). */
export type ShedReason = "queue_full" | "inflight_full";

/** Every shed reason, for pre-created metric series. */
export const SHED_REASONS: readonly ShedReason[] = ["queue_full", "inflight_full"];

/** The two budgets. */
export interface AdmissionLimits {
  /** Most payments handed to the publisher and not yet settled. */
  maxInflightPayments: number;
  /** Most body bytes of requests being read, parsed and validated at once. */
  maxQueuedBytes: number;
}

/** Refusal: the request does not fit. */
export interface Shed {
  ok: false;
  reason: ShedReason;
}

/** A request taken into the in-flight budget; `release` once the publisher let go of it. */
export interface Admitted {
  ok: true;
  /** Gives the request's payments back to the budget; later calls do nothing. */
  release(): void;
}

/** A request that passed the arrival check and is being read; see {@linkcode Admission}. */
export interface Entry {
  ok: true;
  /** Takes `payments` into the in-flight budget, or sheds; leaves the queue either way. */
  admit(payments: number): Admitted | Shed;
  /** Leaves the queue without publishing (a 4xx, an error); later calls do nothing. */
  leave(): void;
}

/** The budgets' use right now. */
export interface AdmissionState extends AdmissionLimits {
  inflightPayments: number;
  queuedBytes: number;
  /** Requests holding the queued bytes (not a budget of its own). */
  queuedRequests: number;
}

/**
 * The budgets of one producer process.
 *
 * @example
 * ```ts
 * const admission = new Admission({ maxInflightPayments: 2000, maxQueuedBytes: 4 << 20 });
 * const entry = admission.enter(contentLength); // on arrival, before reading the body
 * if (!entry.ok) return shed(entry.reason);
 * const admitted = entry.admit(payments.length); // once the body is validated
 * if (!admitted.ok) return shed(admitted.reason);
 * publish(records, { onSettled: admitted.release });
 * ```
 */
export class Admission {
  readonly limits: Readonly<AdmissionLimits>;
  #inflight = 0;
  #queuedBytes = 0;
  #queued = 0;

  constructor(limits: AdmissionLimits) {
    for (const [name, value] of Object.entries(limits)) {
      if (!Number.isInteger(value) || value < 1) {
        throw new RangeError(`Admission limit ${name} must be a positive integer (got ${value})`);
      }
    }
    this.limits = { ...limits };
  }

  /**
   * On arrival, before the body is read: a place in the queue for a body of `bytes`,
   * or a refusal. An empty queue takes any one body, however large (the body limit
   * bounds it), so no valid request is refused by an idle producer.
   */
  enter(bytes: number): Entry | Shed {
    if (!Number.isInteger(bytes) || bytes < 0) {
      throw new RangeError(`A body has a non-negative whole number of bytes (got ${bytes})`);
    }
    if (this.#queued > 0 && this.#queuedBytes + bytes > this.limits.maxQueuedBytes) {
      return { ok: false, reason: "queue_full" };
    }
    // No request has fewer than one payment: a full budget cannot take any.
    if (this.#inflight >= this.limits.maxInflightPayments) {
      return { ok: false, reason: "inflight_full" };
    }
    this.#queued++;
    this.#queuedBytes += bytes;
    let queued = true;
    const leave = () => {
      if (!queued) return;
      queued = false;
      this.#queued--;
      this.#queuedBytes -= bytes;
    };
    return {
      ok: true,
      leave,
      admit: (payments) => {
        if (!queued) throw new Error("Admission entry used twice: it already left the queue");
        leave();
        return this.#take(payments);
      },
    };
  }

  /** Current use of both budgets, for the gauges. */
  state(): AdmissionState {
    return {
      ...this.limits,
      inflightPayments: this.#inflight,
      queuedBytes: this.#queuedBytes,
      queuedRequests: this.#queued,
    };
  }

  #take(payments: number): Admitted | Shed {
    if (!Number.isInteger(payments) || payments < 1) {
      throw new RangeError(`A request carries at least one payment (got ${payments})`);
    }
    if (this.#inflight + payments > this.limits.maxInflightPayments) {
      return { ok: false, reason: "inflight_full" };
    }
    this.#inflight += payments;
    let held = true;
    return {
      ok: true,
      release: () => {
        if (!held) return;
        held = false;
        this.#inflight -= payments;
      },
    };
  }
}
