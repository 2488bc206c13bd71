/**
 * The tests' payments: a request body as a client posts it, and the event the producer
 * writes for one (built by the producer's own `toPaymentEvent`, so the two never drift).
 * `loadgen/data.ts` is not a fixture: it generates realistic traffic for load runs.
 *
 * @example
 * ```ts
 * paymentRequest("TEST-001"); // { payment_id: "TEST-001", amount: 99.99, ... }
 * paymentEvent({ amount: 1000.01 }); // a PENDING event with ids unique to this call
 * ```
 *
 * @module
 */
import { type PaymentEvent, toPaymentEvent } from "@payments/shared/payment";

let sequence = 0;

/**
 * A valid payment event as it travels on the requests topic: payment id, customer and
 * correlation id unique per call (`P-<now>-<n>`, `C-<n>`, `corr-<n>`), 10 USD to `M-1`,
 * created now, source `test`; `over` replaces any field.
 */
export function paymentEvent(over: Partial<PaymentEvent> = {}): PaymentEvent {
  sequence++;
  const event = toPaymentEvent(
    {
      payment_id: `P-${Date.now()}-${sequence}`,
      amount: 10,
      merchant_id: "M-1",
      customer_id: `C-${sequence}`,
      currency: "USD",
    },
    { correlationId: `corr-${sequence}`, source: "test", now: new Date() },
  );
  return { ...event, ...over };
}

/** A valid payment request body (the lab's example payment); `overrides` may make it invalid. */
export function paymentRequest(id: string, overrides: Record<string, unknown> = {}) {
  return {
    payment_id: id,
    amount: 99.99,
    merchant_id: "MERCH-001",
    customer_id: "CUST-001",
    ...overrides,
  };
}
