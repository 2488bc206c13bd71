/**
 * The payment decision: parsing a record value and applying the business rules.
 * Pure and deterministic: everything that varies (what was seen before, how many
 * payments a customer made in the last minute, the clock) is passed in.
 *
 * @module
 */
import {
  isNaiveDateTime,
  type Outcome,
  type PaymentEvent,
  PaymentEventSchema,
  type PaymentResult,
} from "@payments/shared/payment";
import type { Rules } from "./config.ts";

/** Why a record could not even be parsed; these go to the DLQ without retrying. */
export type PoisonReason = "null_value" | "invalid_json" | "schema_invalid";

/** A record value turned into a payment, or the reason it is poison. `naiveCreatedAt`:
 * its `created_at` had no offset and was read as UTC (the event carries it with a `Z`). */
export type Parsed =
  | { kind: "payment"; event: PaymentEvent; naiveCreatedAt: boolean }
  | { kind: "poison"; reason: PoisonReason; error: string };

const decoder = new TextDecoder("utf-8", { fatal: true });

/**
 * Parses a record value (bytes) into a payment event.
 *
 * @example
 * ```ts
 * parseRecord(null); // { kind: "poison", reason: "null_value", error: "record value is null" }
 * ```
 */
export function parseRecord(value: Uint8Array | null | undefined): Parsed {
  if (value === null || value === undefined) {
    return { kind: "poison", reason: "null_value", error: "record value is null" };
  }
  let json: unknown;
  try {
    json = JSON.parse(decoder.decode(value));
  } catch (error) {
    return { kind: "poison", reason: "invalid_json", error: (error as Error).message };
  }
  const result = PaymentEventSchema.safeParse(json);
  if (!result.success) {
    const error = result.error.issues
      .map((issue) => `${issue.path.join(".") || "value"}: ${issue.message}`)
      .join("; ");
    return { kind: "poison", reason: "schema_invalid", error };
  }
  const naiveCreatedAt = isNaiveDateTime((json as { created_at?: unknown }).created_at);
  return { kind: "payment", event: result.data, naiveCreatedAt };
}

/** Decline and duplicate reasons, spelled once. */
export const REASON = Object.freeze({
  duplicate: "duplicate_payment_id",
  merchantBlocked: "merchant_blocked",
  amountOverLimit: "amount_over_limit",
  velocityExceeded: "velocity_exceeded",
});

/** What the rules say about one payment: its outcome and why. */
export interface Verdict {
  outcome: Outcome;
  reason: string | null;
}

/** What the processor knows about a payment's history. */
export interface DecisionContext {
  /** The payment id already has a committed (or in-flight) result. */
  seen: boolean;
  /** This customer's distinct payments created in the minute up to this one's
   * `created_at`, this one included. */
  paymentsInLastMinute: number;
}

/** The amount limit that applies to a currency. */
export function amountLimit(rules: Rules, currency: string): number {
  return rules.amountLimits[currency] ?? rules.defaultAmountLimit;
}

/**
 * Applies the rules in a fixed order: duplicate, blocked merchant, amount limit,
 * velocity. The first that matches decides.
 *
 * @example
 * ```ts
 * decide(event, { seen: true, paymentsInLastMinute: 1 }, rules); // { outcome: "DUPLICATE", ... }
 * ```
 */
export function decide(event: PaymentEvent, context: DecisionContext, rules: Rules): Verdict {
  if (context.seen) return { outcome: "DUPLICATE", reason: REASON.duplicate };
  if (rules.blockedMerchants.has(event.merchant_id)) {
    return { outcome: "DECLINED", reason: REASON.merchantBlocked };
  }
  if (event.amount > amountLimit(rules, event.currency)) {
    return { outcome: "DECLINED", reason: REASON.amountOverLimit };
  }
  if (context.paymentsInLastMinute > rules.velocityMaxPerMinute) {
    return { outcome: "DECLINED", reason: REASON.velocityExceeded };
  }
  return { outcome: "APPROVED", reason: null };
}

/** The result record's value for a decided payment. */
export function toResult(
  event: PaymentEvent,
  verdict: Verdict,
  processedAt: Date,
): PaymentResult {
  return {
    payment_id: event.payment_id,
    outcome: verdict.outcome,
    reason: verdict.reason,
    amount: event.amount,
    currency: event.currency,
    merchant_id: event.merchant_id,
    customer_id: event.customer_id,
    correlation_id: event.correlation_id,
    created_at: event.created_at,
    processed_at: processedAt.toISOString(),
  };
}

/**
 * Exponential backoff before retry number `attempt` (1-based): base, 2x base, 4x base...
 * capped at `max`.
 */
export function backoffMs(attempt: number, base: number, max: number): number {
  return Math.min(max, base * 2 ** Math.max(0, attempt - 1));
}
