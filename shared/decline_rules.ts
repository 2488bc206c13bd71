/**
 * The rules that decline a payment, by the `reason` the consumer records with a
 * DECLINED decision, each with the sentence that names it for a reader of
 * `GET /payments/{payment_id}`. The consumer's rule codes must each have one here
 * (`consumer/decline_rules_consistency_test.ts` checks it).
 *
 * @module
 */

/** The rule behind each decline reason, as a client reads it. */
export const DECLINE_RULES: Readonly<Record<string, string>> = Object.freeze({
  merchant_blocked: "the merchant is blocked (CONSUMER_BLOCKED_MERCHANTS)",
  amount_over_limit:
    "the amount is above its currency's approval limit (CONSUMER_AMOUNT_LIMITS, else CONSUMER_DEFAULT_AMOUNT_LIMIT)",
  velocity_exceeded:
    "the customer has more payments created within a minute of this one than CONSUMER_VELOCITY_MAX_PER_MINUTE allows",
});

/**
 * The rule a decline reason stands for; null for no reason (an approval) or a reason
 * this version does not know (a newer consumer's rule: the reason itself still says it).
 *
 * @example
 * ```ts
 * declineRule("merchant_blocked"); // "the merchant is blocked (CONSUMER_BLOCKED_MERCHANTS)"
 * declineRule(null); // null
 * ```
 */
export function declineRule(reason: string | null): string | null {
  if (reason === null) return null;
  return Object.hasOwn(DECLINE_RULES, reason) ? DECLINE_RULES[reason]! : null;
}
