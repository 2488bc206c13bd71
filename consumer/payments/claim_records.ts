/**
 * The payment tasks' changelog rows (topic `payment_decisions`, partition of the
 * request, key `payment_id`): a claim says that a payment id was taken for a decision
 * by the task of its request's partition, in the same transaction that forwarded it to
 * its customer's task, and how many repeats of it were answered DUPLICATE since. Each
 * repeat writes the whole claim again with the new count, so compaction keeps the
 * newest and nothing is lost.
 *
 * Decision records written before the two stages (same topic, same key, an `outcome`
 * and no `type`) are read as claims that carry their outcome: a repeat of a payment
 * decided then is still a DUPLICATE.
 *
 * @module
 */
import type { OutputRecord } from "../results.ts";
import { isInteger, NO_HEADERS } from "../store/changelog_records.ts";

/** A payment id taken for a decision on a request partition. */
export interface Claim {
  paymentId: string;
  customerId: string;
  /** The payment's `created_at`, in ms since the epoch. */
  createdAtMs: number;
  /** When it was claimed (the retention counts from here). */
  claimedAtMs: number;
  /** Where the request was read. */
  inputPartition: number;
  inputOffset: number;
  correlationId: string;
  /** Later repeats answered DUPLICATE. */
  duplicates: number;
  /** Only on claims read from a decision record of the single-stage consumer: its outcome. */
  legacyOutcome?: "APPROVED" | "DECLINED";
}

/** The changelog record of a claim (written again, whole, for each repeat). */
export function claimRecord(claim: Claim, topic: string): OutputRecord {
  return {
    topic,
    partition: claim.inputPartition,
    key: claim.paymentId,
    value: JSON.stringify({
      type: "claim",
      payment_id: claim.paymentId,
      customer_id: claim.customerId,
      created_at: new Date(claim.createdAtMs).toISOString(),
      claimed_at: new Date(claim.claimedAtMs).toISOString(),
      input_partition: claim.inputPartition,
      input_offset: claim.inputOffset,
      correlation_id: claim.correlationId,
      duplicates: claim.duplicates,
      ...(claim.legacyOutcome ? { outcome: claim.legacyOutcome } : {}),
    }),
    headers: NO_HEADERS,
  };
}

/** Reads a claim (or a legacy decision) from a parsed changelog value; `undefined` if it is neither. */
export function readClaim(key: string, value: Record<string, unknown>): Claim | undefined {
  const { input_partition: inputPartition, input_offset: inputOffset } = value;
  if (!isInteger(inputPartition) || !isInteger(inputOffset)) return undefined;
  if (value.payment_id !== key || typeof value.customer_id !== "string") return undefined;
  const createdAtMs = Date.parse(String(value.created_at ?? ""));
  if (Number.isNaN(createdAtMs)) return undefined;
  if (value.type === "claim") {
    const claimedAtMs = Date.parse(String(value.claimed_at ?? ""));
    const duplicates = value.duplicates;
    if (Number.isNaN(claimedAtMs) || !isInteger(duplicates) || duplicates < 0) return undefined;
    const outcome = value.outcome;
    return {
      paymentId: key,
      customerId: value.customer_id,
      createdAtMs,
      claimedAtMs,
      inputPartition,
      inputOffset,
      correlationId: typeof value.correlation_id === "string" ? value.correlation_id : "",
      duplicates,
      ...(outcome === "APPROVED" || outcome === "DECLINED" ? { legacyOutcome: outcome } : {}),
    };
  }
  if (value.type !== undefined) return undefined;
  // A decision record of the single-stage consumer.
  const decidedAtMs = Date.parse(String(value.decided_at ?? ""));
  if (
    Number.isNaN(decidedAtMs) || (value.outcome !== "APPROVED" && value.outcome !== "DECLINED")
  ) {
    return undefined;
  }
  return {
    paymentId: key,
    customerId: value.customer_id,
    createdAtMs,
    claimedAtMs: decidedAtMs,
    inputPartition,
    inputOffset,
    correlationId: "",
    duplicates: 0,
    legacyOutcome: value.outcome,
  };
}
