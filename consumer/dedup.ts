/**
 * In-memory memory of what has been decided, rebuilt from Kafka (see `history.ts`):
 * payment ids per partition (de-duplication) and customers' recent payments (velocity).
 *
 * Window: a partition remembers its last `windowPerPartition` payment ids (oldest
 * forgotten first). A payment id repeated after that many newer results on its
 * partition is no longer recognised as a duplicate. Requests are keyed by payment_id,
 * so every repeat lands on the partition of the first occurrence.
 *
 * @module
 */

/** Length of the velocity window. */
export const VELOCITY_WINDOW_MS = 60_000;

/** Bounded, insertion-ordered set of payment ids per partition. */
export class DedupWindow {
  readonly #ids = new Map<number, Set<string>>();
  constructor(readonly windowPerPartition: number) {}

  /** Whether `paymentId` was remembered on `partition`. */
  has(partition: number, paymentId: string): boolean {
    return this.#ids.get(partition)?.has(paymentId) ?? false;
  }

  /** Remembers `paymentId`, forgetting the oldest id when the window is full. */
  add(partition: number, paymentId: string): void {
    let ids = this.#ids.get(partition);
    if (!ids) this.#ids.set(partition, ids = new Set());
    if (ids.has(paymentId)) return;
    ids.add(paymentId);
    if (ids.size > this.windowPerPartition) {
      const oldest = ids.values().next().value;
      if (oldest !== undefined) ids.delete(oldest);
    }
  }

  /** Ids remembered on a partition. */
  size(partition: number): number {
    return this.#ids.get(partition)?.size ?? 0;
  }
}

/**
 * Customers' payment creation times, to count payments per minute. Keeps at most
 * `maxPerCustomer` times per customer and `maxCustomers` customers (least recently
 * updated forgotten first), so memory stays bounded.
 */
export class VelocityTracker {
  readonly #times = new Map<string, { ids: Set<string>; times: number[] }>();
  constructor(readonly maxCustomers = 100_000, readonly maxPerCustomer = 1_000) {}

  /** Records a payment once (by id) at its creation time. */
  add(customerId: string, paymentId: string, createdAtMs: number): void {
    let entry = this.#times.get(customerId);
    if (entry) {
      this.#times.delete(customerId);
    } else {
      entry = { ids: new Set(), times: [] };
    }
    this.#times.set(customerId, entry);
    if (!entry.ids.has(paymentId)) {
      entry.ids.add(paymentId);
      entry.times.push(createdAtMs);
      if (entry.times.length > this.maxPerCustomer) {
        entry.times.sort((a, b) => a - b).shift();
        const first = entry.ids.values().next().value;
        if (first !== undefined) entry.ids.delete(first);
      }
    }
    if (this.#times.size > this.maxCustomers) {
      const oldest = this.#times.keys().next().value;
      if (oldest !== undefined) this.#times.delete(oldest);
    }
  }

  /** Payments of the customer created in (t - 60 s, t]. */
  countInWindow(customerId: string, atMs: number): number {
    const entry = this.#times.get(customerId);
    if (!entry) return 0;
    let n = 0;
    for (const time of entry.times) {
      if (time > atMs - VELOCITY_WINDOW_MS && time <= atMs) n++;
    }
    return n;
  }
}
