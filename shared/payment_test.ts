import assert from "node:assert/strict";
import {
  BatchPaymentRequestSchema,
  isSafeCorrelationId,
  MAX_BATCH_SIZE,
  PaymentEventSchema,
  PaymentRequestSchema,
  roundToCents,
  toPaymentEvent,
} from "./payment.ts";

const valid = { payment_id: "P-1", amount: 99.99, merchant_id: "M-1", customer_id: "C-1" };

function issuePaths(result: { success: boolean; error?: { issues: { path: PropertyKey[] }[] } }) {
  assert.equal(result.success, false);
  // A field may break several rules at once; each path is reported once here.
  return [...new Set(result.error!.issues.map((issue) => issue.path.join(".")))];
}

Deno.test("a lab payment is accepted with USD as the default currency", () => {
  const parsed = PaymentRequestSchema.parse(valid);
  assert.deepEqual(parsed, { ...valid, currency: "USD" });
});

Deno.test("amounts are rounded to cents like the lab's validator", () => {
  assert.equal(PaymentRequestSchema.parse({ ...valid, amount: 12.345 }).amount, 12.35);
  assert.equal(roundToCents(1.005), 1.01);
  assert.equal(PaymentRequestSchema.parse({ ...valid, amount: 10000 }).amount, 10000);
});

Deno.test("amounts outside (0, 10000], rounding to zero, or not numbers are rejected", () => {
  for (const amount of [0, -1, 10000.01, 0.004, "10", null, Infinity, NaN, -0]) {
    const paths = issuePaths(PaymentRequestSchema.safeParse({ ...valid, amount }));
    assert.deepEqual(paths, ["amount"], `amount ${String(amount)}`);
  }
});

Deno.test("ids must be non-empty, bounded and of a safe character set", () => {
  for (const id of ["", "x".repeat(65), "a b", "a\nb", "-leading", "ü", "a/b"]) {
    const paths = issuePaths(PaymentRequestSchema.safeParse({ ...valid, merchant_id: id }));
    assert.deepEqual(paths, ["merchant_id"], JSON.stringify(id));
  }
  assert.ok(PaymentRequestSchema.safeParse({ ...valid, payment_id: "TEST-001.a_b:c" }).success);
});

Deno.test("currency must be an upper-case ISO-4217 code", () => {
  assert.equal(PaymentRequestSchema.parse({ ...valid, currency: "EUR" }).currency, "EUR");
  for (const currency of ["usd", "XYZ1", "ABC", ""]) {
    assert.deepEqual(issuePaths(PaymentRequestSchema.safeParse({ ...valid, currency })), [
      "currency",
    ]);
  }
});

Deno.test("unknown fields are rejected rather than silently dropped", () => {
  const paths = issuePaths(PaymentRequestSchema.safeParse({ ...valid, amout: 1 }));
  assert.deepEqual(paths, [""]);
});

Deno.test("a batch reports every invalid field path and every duplicate payment id", () => {
  const result = BatchPaymentRequestSchema.safeParse({
    payments: [valid, { ...valid, payment_id: "P-2", amount: -5 }, { ...valid }, {
      ...valid,
      payment_id: "P-3",
    }],
  });
  assert.deepEqual(issuePaths(result).sort(), ["payments.1.amount", "payments.2.payment_id"]);
  const duplicate = result.error!.issues.find((i) => i.path.join(".") === "payments.2.payment_id");
  assert.match(duplicate!.message, /duplicate payment_id P-1/);
});

Deno.test("duplicate ids are reported together with other invalid fields", () => {
  const result = BatchPaymentRequestSchema.safeParse({
    payments: [valid, { ...valid, amount: "x" }, { ...valid, payment_id: "P-2", currency: 1 }],
  });
  assert.deepEqual(issuePaths(result).sort(), [
    "payments.1.amount",
    "payments.1.payment_id",
    "payments.2.currency",
  ]);
});

Deno.test("a batch holds 1 to 500 payments", () => {
  assert.deepEqual(issuePaths(BatchPaymentRequestSchema.safeParse({ payments: [] })), [
    "payments",
  ]);
  const tooMany = Array.from({ length: MAX_BATCH_SIZE + 1 }, (_, i) => ({
    ...valid,
    payment_id: `P-${i}`,
  }));
  assert.deepEqual(issuePaths(BatchPaymentRequestSchema.safeParse({ payments: tooMany })), [
    "payments",
  ]);
  assert.ok(BatchPaymentRequestSchema.safeParse({ payments: tooMany.slice(1) }).success);
});

Deno.test("correlation ids must be visible ASCII of at most 128 characters", () => {
  assert.ok(isSafeCorrelationId("req-123_abc"));
  for (const id of [null, undefined, "", "a b", "a\u0000", "x".repeat(129), "é"]) {
    assert.equal(isSafeCorrelationId(id), false, JSON.stringify(id));
  }
});

Deno.test("an accepted request becomes a PENDING event that the consumer's schema accepts", () => {
  const request = PaymentRequestSchema.parse(valid);
  const event = toPaymentEvent(request, {
    correlationId: "corr-1",
    source: "payment-producer",
    now: new Date("2026-01-02T03:04:05.678Z"),
  });
  assert.deepEqual(PaymentEventSchema.parse(event), event);
  assert.equal(event.status, "PENDING");
  assert.equal(event.created_at, "2026-01-02T03:04:05.678Z");
});
