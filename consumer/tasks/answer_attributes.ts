/**
 * What a record's span says of how it ended, from its answer: the payment, its outcome,
 * the reason and the rule behind it (as `GET /payments/{id}` words the rule), and for a
 * dead letter the error (its status says dead-lettered).
 *
 * Outcomes: a payment task's record ends `claimed` (and forwarded), `DUPLICATE` or
 * `dead_letter`; a customer task's `APPROVED`, `DECLINED` or `dead_letter`.
 *
 * @module
 */
import type { Attributes } from "@opentelemetry/api";
import { declineRule } from "@payments/shared/decline_rules";
import { PAYMENT_ATTR } from "@payments/shared/span_attributes";
import type { Answer } from "../answer.ts";

/** The rule behind a DUPLICATE, in the words of `shared/decline_rules.ts`. */
export const DUPLICATE_RULE =
  "the payment id was claimed before, within the de-duplication retention (CONSUMER_DEDUP_RETENTION)";

/**
 * The attributes of a record's span once it was answered.
 *
 * @example
 * ```ts
 * answerAttributes(declined);
 * // { "payment.id": "P-1", "payment.outcome": "DECLINED", "payment.reason": "merchant_blocked",
 * //   "payment.rule": "the merchant is blocked (CONSUMER_BLOCKED_MERCHANTS)", ... }
 * ```
 */
export function answerAttributes(answer: Answer): Attributes {
  const attributes: Attributes = {
    [PAYMENT_ATTR.correlationId]: answer.trace.correlation_id,
  };
  if (answer.event) attributes[PAYMENT_ATTR.id] = answer.event.payment_id;
  switch (answer.kind) {
    case "claimed":
      attributes[PAYMENT_ATTR.outcome] = "claimed";
      attributes["payments.forward.partition"] = Number(answer.log.customer_partition);
      break;
    case "duplicate":
      attributes[PAYMENT_ATTR.outcome] = answer.outcome;
      attributes[PAYMENT_ATTR.reason] = String(answer.log.reason);
      attributes[PAYMENT_ATTR.rule] = DUPLICATE_RULE;
      break;
    case "decided": {
      attributes[PAYMENT_ATTR.outcome] = answer.outcome;
      const { reason } = answer.decision;
      if (reason !== null) {
        attributes[PAYMENT_ATTR.reason] = reason;
        const rule = declineRule(reason);
        if (rule !== null) attributes[PAYMENT_ATTR.rule] = rule;
      }
      break;
    }
    case "dead_letter":
      attributes[PAYMENT_ATTR.outcome] = "dead_letter";
      attributes[PAYMENT_ATTR.reason] = answer.reason;
      attributes["payments.dlq.error"] = String(answer.log.error ?? "");
      attributes["payments.dlq.attempts"] = Number(answer.log.attempts ?? 1);
      break;
  }
  return attributes;
}
