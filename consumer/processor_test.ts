import assert from "node:assert/strict";
import type { PaymentEvent } from "@payments/shared/payment";
import type { Rules } from "./config.ts";
import { backoffMs, decide, parseRecord, REASON, toResult } from "./processor.ts";

const rules: Rules = {
  amountLimits: { USD: 5000, JPY: 9000 },
  defaultAmountLimit: 1000,
  blockedMerchants: new Set(["M-BAD"]),
  velocityMaxPerMinute: 3,
};

const event = (over: Partial<PaymentEvent> = {}): PaymentEvent => ({
  payment_id: "P-1",
  amount: 10,
  merchant_id: "M-1",
  customer_id: "C-1",
  currency: "USD",
  description: null,
  status: "PENDING",
  created_at: "2026-01-01T00:00:00.000Z",
  correlation_id: "corr-1",
  source: "test",
  ...over,
});
const fresh = { seen: false, paymentsInLastMinute: 1 };
const bytes = (text: string) => new TextEncoder().encode(text);

Deno.test("a payment within every rule is APPROVED without a reason", () => {
  assert.deepEqual(decide(event(), fresh, rules), { outcome: "APPROVED", reason: null });
});

Deno.test("a payment id seen before is a DUPLICATE whatever the other rules say", () => {
  const decision = decide(event({ merchant_id: "M-BAD" }), { ...fresh, seen: true }, rules);
  assert.deepEqual(decision, { outcome: "DUPLICATE", reason: REASON.duplicate });
});

Deno.test("a blocked merchant's payment is DECLINED merchant_blocked", () => {
  assert.equal(decide(event({ merchant_id: "M-BAD" }), fresh, rules).reason, "merchant_blocked");
});

Deno.test("amount limits apply per currency, with a default for unlisted currencies", () => {
  assert.equal(decide(event({ amount: 5000 }), fresh, rules).outcome, "APPROVED");
  assert.equal(decide(event({ amount: 5000.01 }), fresh, rules).reason, "amount_over_limit");
  assert.equal(decide(event({ amount: 8000, currency: "JPY" }), fresh, rules).outcome, "APPROVED");
  assert.equal(
    decide(event({ amount: 1000.5, currency: "EUR" }), fresh, rules).reason,
    "amount_over_limit",
  );
});

Deno.test("more than N payments of a customer in a minute are DECLINED velocity_exceeded", () => {
  assert.equal(
    decide(event(), { seen: false, paymentsInLastMinute: 3 }, rules).outcome,
    "APPROVED",
  );
  assert.equal(
    decide(event(), { seen: false, paymentsInLastMinute: 4 }, rules).reason,
    "velocity_exceeded",
  );
});

Deno.test("parseRecord sends null, bad JSON and schema-invalid values to the DLQ reasons", () => {
  const empty = parseRecord(null);
  assert.equal(empty.kind === "poison" && empty.reason, "null_value");
  const bad = parseRecord(bytes("{nope"));
  assert.equal(bad.kind === "poison" && bad.reason, "invalid_json");
  const wrong = parseRecord(bytes(JSON.stringify({ payment_id: "P-1", amount: -1 })));
  assert.ok(wrong.kind === "poison");
  assert.equal(wrong.reason, "schema_invalid");
  assert.match(wrong.error, /amount/);
  const notUtf8 = parseRecord(new Uint8Array([0xff, 0xfe]));
  assert.equal(notUtf8.kind === "poison" && notUtf8.reason, "invalid_json");
});

Deno.test("parseRecord accepts a valid payment event", () => {
  const parsed = parseRecord(bytes(JSON.stringify(event())));
  assert.equal(parsed.kind, "payment");
  assert.equal(parsed.kind === "payment" && parsed.naiveCreatedAt, false);
});

Deno.test("parseRecord reads the lab's naive created_at as UTC and says it was naive", () => {
  const parsed = parseRecord(
    bytes(JSON.stringify(event({ created_at: "2026-12-01T07:10:09.523215" }))),
  );
  assert.ok(parsed.kind === "payment");
  assert.equal(parsed.naiveCreatedAt, true);
  assert.equal(parsed.event.created_at, "2026-12-01T07:10:09.523215Z");
  assert.equal(
    toResult(parsed.event, { outcome: "APPROVED", reason: null }, new Date(0)).created_at,
    "2026-12-01T07:10:09.523215Z",
  );
});

Deno.test("toResult copies the payment and stamps processed_at", () => {
  const result = toResult(event(), { outcome: "APPROVED", reason: null }, new Date(0));
  assert.equal(result.payment_id, "P-1");
  assert.equal(result.processed_at, "1970-01-01T00:00:00.000Z");
  assert.equal(result.created_at, "2026-01-01T00:00:00.000Z");
});

Deno.test("backoff doubles per attempt and is capped", () => {
  assert.deepEqual([1, 2, 3, 4, 5].map((n) => backoffMs(n, 100, 500)), [100, 200, 400, 500, 500]);
});
