/**
 * An in-memory cache of the claims made or repeated recently, per partition, in front
 * of the payment tasks' stores: a repeat that arrives soon after its first occurrence
 * (the usual client retry) is recognised without a database lookup. Bounded by
 * `CONSUMER_DEDUP_WINDOW` claims per partition, least recently touched forgotten
 * first. It only ever says "claimed"; an id it does not hold is looked up in the
 * store, so its size changes speed, never an outcome.
 *
 * @module
 */
import type { Claim } from "./claim_records.ts";

/** Bounded, recency-ordered claims per partition. */
export class RecentClaims {
  readonly #claims = new Map<number, Map<string, Claim>>();
  constructor(readonly perPartition: number) {}

  /** The cached claim of `paymentId` on `partition`, if any. */
  get(partition: number, paymentId: string): Claim | undefined {
    return this.#claims.get(partition)?.get(paymentId);
  }

  /** Caches (or refreshes) a claim, forgetting the least recently touched when full. */
  set(partition: number, claim: Claim): void {
    let claims = this.#claims.get(partition);
    if (!claims) this.#claims.set(partition, claims = new Map());
    claims.delete(claim.paymentId);
    claims.set(claim.paymentId, claim);
    if (claims.size > this.perPartition) {
      const oldest = claims.keys().next().value;
      if (oldest !== undefined) claims.delete(oldest);
    }
  }

  /** Forgets a partition (it moved to another instance, or its store was reopened). */
  drop(partition: number): void {
    this.#claims.delete(partition);
  }

  /** Claims cached for a partition. */
  size(partition: number): number {
    return this.#claims.get(partition)?.size ?? 0;
  }
}
