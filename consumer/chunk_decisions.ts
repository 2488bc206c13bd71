/**
 * The decision bookkeeping of one transaction's records: whether a payment id was
 * decided before (the partition's store and cache, or earlier in this same chunk)
 * and how many payments its customer made in the minute up to it (the velocity view,
 * plus this chunk's payments not committed yet). Pure: the store's answers are
 * looked up once per chunk and passed in.
 *
 * @module
 */
import type { PaymentEvent } from "@payments/shared/payment";
import type { Rules } from "./config.ts";
import { decide, type Verdict } from "./processor.ts";
import { VELOCITY_WINDOW_MS, type VelocityTracker } from "./store/velocity.ts";

/** Decides the payments of one chunk, in order. */
export class ChunkDecisions {
  readonly #pendingIds = new Set<string>();
  readonly #pendingTimes = new Map<string, number[]>();

  /**
   * @param decidedBefore ids of this chunk already decided before it (store or cache)
   * @param velocity committed payments per customer, across partitions
   */
  constructor(
    readonly decidedBefore: ReadonlySet<string>,
    readonly velocity: Pick<VelocityTracker, "countInWindow">,
    readonly rules: Rules,
  ) {}

  /** Decides `event`, remembering it for the rest of the chunk. */
  decide(event: PaymentEvent): Verdict {
    const createdAt = Date.parse(event.created_at);
    const seen = this.decidedBefore.has(event.payment_id) || this.#pendingIds.has(event.payment_id);
    const pendingTimes = this.#pendingTimes.get(event.customer_id) ?? [];
    const pendingInWindow =
      pendingTimes.filter((t) => t > createdAt - VELOCITY_WINDOW_MS && t <= createdAt).length;
    const inWindow = this.velocity.countInWindow(event.customer_id, createdAt) + pendingInWindow;
    const decision = decide(
      event,
      { seen, paymentsInLastMinute: inWindow + (seen ? 0 : 1) },
      this.rules,
    );
    this.#pendingIds.add(event.payment_id);
    if (!seen) this.#pendingTimes.set(event.customer_id, [...pendingTimes, createdAt]);
    return decision;
  }
}
