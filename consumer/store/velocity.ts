/**
 * What the velocity rule needs: each customer's recent payments by `created_at`,
 * across every partition (payments are keyed by payment id, so one customer's
 * payments spread over partitions). It is fed by this worker's own commits, primed
 * from the local stores of its partitions, and by the changelog follower for the
 * partitions other instances own.
 *
 * Bounded: at most `maxCustomers` customers (least recently updated forgotten first)
 * and `maxPerCustomer` payments each; times older than {@linkcode VELOCITY_HORIZON_MS}
 * before a customer's newest payment are dropped, as no later payment can count them.
 *
 * @module
 */

/** Length of the velocity window. */
export const VELOCITY_WINDOW_MS = 60_000;

/**
 * How far back, by decision time, the velocity view is rebuilt at start: the window,
 * plus a minute for payments decided a little after they were created.
 */
export const VELOCITY_HORIZON_MS = 2 * VELOCITY_WINDOW_MS;

interface CustomerPayments {
  ids: string[];
  times: number[];
}

/** Customers' payment creation times, to count payments per minute. */
export class VelocityTracker {
  readonly #customers = new Map<string, CustomerPayments>();
  constructor(readonly maxCustomers = 100_000, readonly maxPerCustomer = 1_000) {}

  /** Records a payment once (by id) at its creation time. */
  add(customerId: string, paymentId: string, createdAtMs: number): void {
    let entry = this.#customers.get(customerId);
    if (entry) {
      this.#customers.delete(customerId);
    } else {
      entry = { ids: [], times: [] };
    }
    this.#customers.set(customerId, entry);
    if (!entry.ids.includes(paymentId)) {
      entry.ids.push(paymentId);
      entry.times.push(createdAtMs);
      this.#prune(entry);
    }
    if (this.#customers.size > this.maxCustomers) {
      const oldest = this.#customers.keys().next().value;
      if (oldest !== undefined) this.#customers.delete(oldest);
    }
  }

  /** Payments of the customer created in (t - 60 s, t]. */
  countInWindow(customerId: string, atMs: number): number {
    const entry = this.#customers.get(customerId);
    if (!entry) return 0;
    let n = 0;
    for (const time of entry.times) {
      if (time > atMs - VELOCITY_WINDOW_MS && time <= atMs) n++;
    }
    return n;
  }

  /** Customers remembered. */
  get size(): number {
    return this.#customers.size;
  }

  #prune(entry: CustomerPayments): void {
    const newest = Math.max(...entry.times);
    for (let i = entry.times.length - 1; i >= 0; i--) {
      if (entry.times[i]! < newest - VELOCITY_HORIZON_MS) {
        entry.times.splice(i, 1);
        entry.ids.splice(i, 1);
      }
    }
    while (entry.times.length > this.maxPerCustomer) {
      let oldest = 0;
      for (let i = 1; i < entry.times.length; i++) {
        if (entry.times[i]! < entry.times[oldest]!) oldest = i;
      }
      entry.times.splice(oldest, 1);
      entry.ids.splice(oldest, 1);
    }
  }
}
