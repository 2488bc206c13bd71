/**
 * An in-memory cache of payment ids recently decided, per partition, in front of the
 * partition stores: a repeat that arrives soon after its first occurrence (the usual
 * client retry) is recognised without a database lookup. Bounded by
 * `CONSUMER_DEDUP_WINDOW` ids per partition, oldest forgotten first. It only ever
 * says "decided"; an id it does not hold is looked up in the store, so its size
 * changes speed, never an outcome.
 *
 * @module
 */

/** Bounded, insertion-ordered set of payment ids per partition. */
export class RecentIds {
  readonly #ids = new Map<number, Set<string>>();
  constructor(readonly perPartition: number) {}

  /** Whether `paymentId` is cached as decided on `partition`. */
  has(partition: number, paymentId: string): boolean {
    return this.#ids.get(partition)?.has(paymentId) ?? false;
  }

  /** Caches `paymentId` as decided, forgetting the oldest id when full. */
  add(partition: number, paymentId: string): void {
    let ids = this.#ids.get(partition);
    if (!ids) this.#ids.set(partition, ids = new Set());
    if (ids.has(paymentId)) return;
    ids.add(paymentId);
    if (ids.size > this.perPartition) {
      const oldest = ids.values().next().value;
      if (oldest !== undefined) ids.delete(oldest);
    }
  }

  /** Forgets a partition (it moved to another instance). */
  drop(partition: number): void {
    this.#ids.delete(partition);
  }

  /** Ids cached for a partition. */
  size(partition: number): number {
    return this.#ids.get(partition)?.size ?? 0;
  }
}
