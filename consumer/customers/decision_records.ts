/**
 * The customer tasks' changelog rows (topic `payment_decisions.by_customer`, partition
 * of the customer, key `payment_id`): each payment approved or declined, with the rule
 * that declined it, what the velocity rule counts (customer and `created_at`) and
 * where the request and its forward were read.
 *
 * @module
 */
import type { Outcome } from "@payments/shared/payment";
import type { OutputRecord } from "../results.ts";
import { isInteger, NO_HEADERS } from "../store/changelog_records.ts";

/** A payment approved or declined by its customer's task. */
export interface Decision {
  paymentId: string;
  outcome: Exclude<Outcome, "DUPLICATE">;
  /** The rule that declined it (`merchant_blocked`, ...); null when approved. */
  reason: string | null;
  customerId: string;
  /** The payment's `created_at`, in ms since the epoch. */
  createdAtMs: number;
  decidedAtMs: number;
  /** Where the request was read. */
  inputPartition: number;
  inputOffset: number;
  /** Where its forward was read (the customer task's own input). */
  forwardPartition: number;
  forwardOffset: number;
  correlationId: string;
}

/** The changelog record of a decision. */
export function decisionRecord(decision: Decision, topic: string): OutputRecord {
  return {
    topic,
    partition: decision.forwardPartition,
    key: decision.paymentId,
    value: JSON.stringify({
      type: "decision",
      payment_id: decision.paymentId,
      outcome: decision.outcome,
      reason: decision.reason,
      customer_id: decision.customerId,
      created_at: new Date(decision.createdAtMs).toISOString(),
      decided_at: new Date(decision.decidedAtMs).toISOString(),
      input_partition: decision.inputPartition,
      input_offset: decision.inputOffset,
      forward_partition: decision.forwardPartition,
      forward_offset: decision.forwardOffset,
      correlation_id: decision.correlationId,
    }),
    headers: NO_HEADERS,
  };
}

/** Reads a decision from a parsed changelog value; `undefined` if it is not one. */
export function readDecision(key: string, value: Record<string, unknown>): Decision | undefined {
  const {
    input_partition: inputPartition,
    input_offset: inputOffset,
    forward_partition: forwardPartition,
    forward_offset: forwardOffset,
  } = value;
  if (
    value.type !== "decision" || value.payment_id !== key ||
    typeof value.customer_id !== "string" ||
    (value.outcome !== "APPROVED" && value.outcome !== "DECLINED") ||
    (value.reason !== null && typeof value.reason !== "string") ||
    !isInteger(inputPartition) || !isInteger(inputOffset) ||
    !isInteger(forwardPartition) || !isInteger(forwardOffset)
  ) {
    return undefined;
  }
  const createdAtMs = Date.parse(String(value.created_at ?? ""));
  const decidedAtMs = Date.parse(String(value.decided_at ?? ""));
  if (Number.isNaN(createdAtMs) || Number.isNaN(decidedAtMs)) return undefined;
  return {
    paymentId: key,
    outcome: value.outcome,
    reason: value.reason,
    customerId: value.customer_id,
    createdAtMs,
    decidedAtMs,
    inputPartition,
    inputOffset,
    forwardPartition,
    forwardOffset,
    correlationId: typeof value.correlation_id === "string" ? value.correlation_id : "",
  };
}
