import assert from "node:assert/strict";
import { PaymentEventSchema, PaymentRequestSchema } from "@payments/shared/payment";
import { paymentEvent, paymentRequest } from "./payments.ts";

Deno.test("paymentEvent is a valid PENDING event with ids unique per call, any field replaceable", () => {
  const [a, b] = [paymentEvent(), paymentEvent({ amount: 1000.01, merchant_id: "M-BLOCKED" })];
  assert.deepEqual(PaymentEventSchema.parse(a), a);
  assert.equal(a.status, "PENDING");
  assert.notEqual(a.payment_id, b!.payment_id);
  assert.notEqual(a.correlation_id, b!.correlation_id);
  assert.deepEqual([b!.amount, b!.merchant_id], [1000.01, "M-BLOCKED"]);
});

Deno.test("paymentRequest is a valid request body unless overridden", () => {
  assert.equal(PaymentRequestSchema.safeParse(paymentRequest("TEST-001")).success, true);
  assert.equal(PaymentRequestSchema.safeParse(paymentRequest("X", { amount: -1 })).success, false);
});
