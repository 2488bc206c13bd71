/**
 * The probe's marks are the probe's alone: a payment whose id starts with
 * `PROBE_ID_PREFIX` or whose merchant is `PROBE_MERCHANT_ID` (`@payments/shared/probe`)
 * is left out of the business metrics everywhere, so a client using either would hide
 * its payments from them. Such a payment is answered 400 like any invalid field, unless
 * the request is the probe's own (`probe_requests.ts`).
 *
 * @module
 */
import type { Handler } from "hono";
import type { FieldError } from "@payments/shared/problem";
import type { PaymentRequest } from "@payments/shared/payment";
import { PROBE_ID_PREFIX, PROBE_MERCHANT_ID } from "@payments/shared/probe";
import { problemFor, type ProducerEnv } from "../context.ts";

/** The payments of a validated body, each with the path of its fields (`payments.3.`). */
export type PaymentsOf<Body> = (body: Body) => { payment: PaymentRequest; path: string }[];

/** The reserved marks among `payments`, as field errors. */
export function reservedMarks(payments: { payment: PaymentRequest; path: string }[]): FieldError[] {
  return payments.flatMap(({ payment, path }) => [
    ...(payment.payment_id.startsWith(PROBE_ID_PREFIX)
      ? [{
        path: `${path}payment_id`,
        message:
          `payment_id may not start with "${PROBE_ID_PREFIX}": reserved for the pipeline probe`,
      }]
      : []),
    ...(payment.merchant_id === PROBE_MERCHANT_ID
      ? [{
        path: `${path}merchant_id`,
        message: `merchant_id "${PROBE_MERCHANT_ID}" is reserved for the pipeline probe`,
      }]
      : []),
  ]);
}

/** `handler` behind the check: 400 naming every reserved field of a client's body. */
export function refuseReservedIds<Body>(
  paymentsOf: PaymentsOf<Body>,
  handler: Handler<ProducerEnv>,
): Handler<ProducerEnv> {
  return (c, next) => {
    if (c.get("probe")) return handler(c, next);
    // The route's validator ran before this handler: the body is what the schema says.
    const errors = reservedMarks(paymentsOf(c.req.valid("json" as never) as Body));
    if (errors.length === 0) return handler(c, next);
    return problemFor(c, {
      status: 400,
      kind: "validation",
      detail: `${errors.length} invalid field${errors.length === 1 ? "" : "s"}: ` +
        errors.slice(0, 5).map((error) => error.path).join(", ") +
        (errors.length > 5 ? ", ..." : ""),
      extensions: { errors },
    });
  };
}
