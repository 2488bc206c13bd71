/**
 * The rules the Kafka Streams peer applies, spelled once: passed to the Java
 * application as arguments and used by the bench to compute the outcome each input
 * must get, so the check proves the peer applied them. The consumer's defaults (a
 * limit of 5,000 for every currency, no blocked merchant) would decide nothing on the
 * bench's records, so one frequent merchant is blocked and one currency has a lower
 * limit: each rule then decides some of the records.
 *
 * @module
 */

/** Blocked merchants and amount limits, as the consumer's `Rules` has them. */
export interface PeerRules {
  blockedMerchants: string[];
  defaultAmountLimit: number;
  amountLimits: Record<string, number>;
}

/** The rules of the bench's Streams peer. */
export const PEER_RULES: PeerRules = {
  blockedMerchants: ["merchant-0003"],
  defaultAmountLimit: 5000,
  amountLimits: { EUR: 100 },
};

/**
 * The outcome of a first occurrence under `rules` (blocked merchant, then amount
 * limit), as the consumer's `decide` gives it; a value that is not a payment is
 * `unreadable`.
 *
 * @example
 * ```ts
 * expectedOutcome('{"merchant_id":"merchant-0003","amount":1,"currency":"USD"}', PEER_RULES);
 * // "DECLINED"
 * ```
 */
export function expectedOutcome(value: string, rules: PeerRules): string {
  let payment: { merchant_id?: unknown; amount?: unknown; currency?: unknown };
  try {
    payment = JSON.parse(value);
  } catch {
    return "unreadable";
  }
  if (typeof payment.amount !== "number" || typeof payment.currency !== "string") {
    return "unreadable";
  }
  if (rules.blockedMerchants.includes(String(payment.merchant_id))) return "DECLINED";
  const limit = rules.amountLimits[payment.currency] ?? rules.defaultAmountLimit;
  return payment.amount > limit ? "DECLINED" : "APPROVED";
}

/** The rules as the peer's `key=value` arguments. */
export function peerRulesArgs(rules: PeerRules): string[] {
  return [
    `blocked=${rules.blockedMerchants.join(",")}`,
    `default-limit=${rules.defaultAmountLimit}`,
    `limits=${Object.entries(rules.amountLimits).map(([c, l]) => `${c}:${l}`).join(",")}`,
  ];
}
