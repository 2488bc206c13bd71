import assert from "node:assert/strict";
import fc from "fast-check";
import {
  BatchPaymentRequestSchema,
  CreatedAtSchema,
  isNaiveDateTime,
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

Deno.test("an amount is kept as sent, never rounded, within its currency's minor unit", () => {
  for (
    const [amount, currency] of [
      [99.99, "USD"],
      [0.01, "EUR"],
      [10000, "USD"],
      [5000, "JPY"],
      [1.234, "BHD"],
      [0.001, "KWD"],
      [1.5, "USD"],
    ] as const
  ) {
    const parsed = PaymentRequestSchema.parse({ ...valid, amount, currency });
    assert.equal(parsed.amount, amount, `${amount} ${currency}`);
  }
  // The lab's rounding survives for the load generator and the event schema below.
  assert.equal(roundToCents(1.005), 1.01);
});

Deno.test("an amount with more decimal places than its currency allows is refused at amount, naming the currency", () => {
  for (
    const [amount, currency, places] of [
      [1.005, "USD", /more than 2 decimal places, the minor unit of USD/],
      [1.004, "USD", /more than 2 decimal places/],
      [12.345, "EUR", /EUR/],
      [1.5, "JPY", /whole number in JPY/],
      [100.01, "JPY", /whole number in JPY/],
      [1.2345, "BHD", /more than 3 decimal places, the minor unit of BHD/],
      [0.0001, "KWD", /KWD/],
    ] as const
  ) {
    const result = PaymentRequestSchema.safeParse({ ...valid, amount, currency });
    assert.deepEqual(issuePaths(result), ["amount"], `${amount} ${currency}`);
    assert.match(result.error!.issues[0]!.message, places);
    assert.match(result.error!.issues[0]!.message, /never rounded/);
  }
  // USD by default: 1.005 is refused without a currency in the request too.
  assert.deepEqual(issuePaths(PaymentRequestSchema.safeParse({ ...valid, amount: 1.005 })), [
    "amount",
  ]);
});

Deno.test("amounts outside (0, 10000], below the minor unit, or not numbers are rejected", () => {
  for (const amount of [0, -1, 10000.01, 0.004, "10", null, Infinity, NaN, -0]) {
    const paths = issuePaths(PaymentRequestSchema.safeParse({ ...valid, amount }));
    assert.deepEqual(paths, ["amount"], `amount ${String(amount)}`);
  }
});

Deno.test("a batch names every amount with too many decimal places beside the other invalid fields", () => {
  const result = BatchPaymentRequestSchema.safeParse({
    payments: [
      valid,
      { ...valid, payment_id: "P-2", amount: 1.5, currency: "JPY" },
      { ...valid, payment_id: "P-3", amount: 1.555, merchant_id: "a b" },
    ],
  });
  assert.deepEqual(issuePaths(result).sort(), [
    "payments.1.amount",
    "payments.2.amount",
    "payments.2.merchant_id",
  ]);
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

Deno.test("records of other producers keep the lab's rounding to cents; three-decimal currencies keep theirs", () => {
  const event = (amount: number, currency: string) => ({
    payment_id: "P-1",
    amount,
    merchant_id: "M-1",
    customer_id: "C-1",
    currency,
    status: "PENDING",
    created_at: "2026-01-02T03:04:05.678Z",
    correlation_id: "corr-1",
    source: "lab-producer",
  });
  const amountOf = (amount: number, currency: string) =>
    PaymentEventSchema.parse(event(amount, currency)).amount;
  // As before this change: every currency of at most two decimals is read to cents.
  assert.equal(amountOf(99.99, "USD"), 99.99);
  assert.equal(amountOf(1.005, "USD"), 1.01);
  assert.equal(amountOf(1.004, "EUR"), 1);
  assert.equal(amountOf(1.5, "JPY"), 1.5);
  assert.equal(amountOf(0.005, "USD"), 0.01);
  assert.deepEqual(issuePaths(PaymentEventSchema.safeParse(event(0.004, "USD"))), ["amount"]);
  assert.deepEqual(issuePaths(PaymentEventSchema.safeParse(event(-1, "USD"))), ["amount"]);
  assert.deepEqual(issuePaths(PaymentEventSchema.safeParse(event(10000.01, "USD"))), ["amount"]);
  // What the API accepts in BHD is processed as stored, not cut to cents or refused.
  assert.equal(amountOf(1.234, "BHD"), 1.234);
  assert.equal(amountOf(0.001, "BHD"), 0.001);
  assert.equal(amountOf(1.2345, "KWD"), 1.235);
});

/** `value` where every other field of an event is valid. */
const eventAt = (created_at: unknown) => ({
  ...valid,
  currency: "USD",
  description: null,
  status: "PENDING",
  created_at,
  correlation_id: "corr-1",
  source: "lab-producer",
});

Deno.test("the lab's naive created_at (Python's isoformat) is read as UTC and gets its Z", () => {
  for (
    const [naive, iso] of [
      ["2026-12-01T07:10:09.523215", "2026-12-01T07:10:09.523Z"],
      ["2026-12-01T07:10:09", "2026-12-01T07:10:09.000Z"], // microsecond 0: no fraction
      ["2026-12-01T07:10:09.5", "2026-12-01T07:10:09.500Z"],
      ["2024-02-29T23:59:59.999999", "2024-02-29T23:59:59.999Z"],
    ]
  ) {
    assert.ok(isNaiveDateTime(naive), naive);
    const event = PaymentEventSchema.parse(eventAt(naive));
    assert.equal(event.created_at, `${naive}Z`);
    assert.equal(new Date(Date.parse(event.created_at)).toISOString(), iso);
  }
});

Deno.test("a naive created_at of any instant names that instant in UTC, whatever the digits of its fraction", () => {
  fc.assert(
    fc.property(
      fc.date({
        min: new Date("1970-01-01T00:00:00Z"),
        max: new Date("9999-12-31T23:59:59Z"),
        noInvalidDate: true,
      }),
      fc.constantFrom(0, 1, 3, 6, 9),
      fc.integer({ min: 0, max: 999_999 }),
      (date, digits, micros) => {
        const seconds = date.toISOString().slice(0, 19);
        const fraction = digits === 0
          ? ""
          : `.${String(date.getUTCMilliseconds()).padStart(3, "0")}${
            String(micros).padStart(6, "0")
          }`.slice(0, digits + 1);
        const naive = `${seconds}${fraction}`;
        const parsed = PaymentEventSchema.parse(eventAt(naive));
        // Sub-millisecond digits are dropped, never rounded up into the next millisecond.
        const millis = Number(`${fraction.slice(1)}000`.slice(0, 3));
        const expected = Date.parse(`${seconds}Z`) + millis;
        assert.equal(Date.parse(parsed.created_at), expected, naive);
      },
    ),
  );
});

Deno.test("created_at with an offset passes unchanged", () => {
  for (
    const value of [
      "2026-12-01T07:10:09.523Z",
      "2026-12-01T07:10:09Z",
      "2026-12-01T07:10:09.523215+05:30",
      "2026-12-01T07:10:09-08:00",
    ]
  ) {
    assert.equal(PaymentEventSchema.parse(eventAt(value)).created_at, value);
    assert.equal(isNaiveDateTime(value), false, value);
  }
});

Deno.test("every created_at rejected before is still rejected: a naive date-time is the only new form", () => {
  for (
    const value of [
      "2026-12-01", // a date alone
      "2026-12-01T07:10", // no seconds (nor with Z before)
      "2026-12-01T07",
      "2026-12-01 07:10:09", // Python's str(datetime): a space, not ISO's T
      "2026-12-01t07:10:09",
      "2026-12-01T07:10:09.",
      "2026-12-01T07:10:09+0200",
      "2026-12-01T07:10:09+02",
      "2026-12-01T25:10:09",
      "2026-13-01T07:10:09",
      "2026-02-30T07:10:09",
      "2026-12-01T07:10:60",
      "2026-12-01T07:10:09.523215 ",
      " 2026-12-01T07:10:09",
      "2026-12-01T07:10:09.523215\n",
      "1796109009523",
      "",
      1796109009523,
      null,
      undefined,
    ]
  ) {
    assert.deepEqual(
      issuePaths(PaymentEventSchema.safeParse(eventAt(value))),
      ["created_at"],
      JSON.stringify(value),
    );
    assert.equal(isNaiveDateTime(value), false, JSON.stringify(value));
  }
});

Deno.test("strings the schema accepts for created_at are exactly the offset forms and the naive ones", () => {
  const offsetForm = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
  fc.assert(
    fc.property(
      fc.oneof(
        fc.string({ unit: fc.constantFrom(..."0123456789-:T.Z+ "), maxLength: 32 }),
        fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
        fc.date({ noInvalidDate: true }).map((d) => d.toISOString().slice(0, -1)),
      ),
      (value) => {
        const accepted = CreatedAtSchema.safeParse(value);
        if (!accepted.success) return;
        assert.ok(offsetForm.test(value) || isNaiveDateTime(value), value);
        assert.ok(offsetForm.test(accepted.data), accepted.data);
        assert.ok(Number.isFinite(Date.parse(accepted.data)), accepted.data);
      },
    ),
  );
});
