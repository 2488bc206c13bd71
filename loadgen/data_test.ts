import assert from "node:assert/strict";
import {
  BatchPaymentRequestSchema,
  MAX_AMOUNT,
  PaymentRequestSchema,
} from "@payments/shared/payment";
import {
  AcceptedPool,
  corrupt,
  createPaymentGenerator,
  CURRENCY_WEIGHTS,
  type GeneratedPayment,
  INVALID_KINDS,
} from "./data.ts";
import { seededRandom } from "./random.ts";

Deno.test("the same seed and run id give the same payments", () => {
  const a = createPaymentGenerator({ seed: 42, runId: "r" });
  const b = createPaymentGenerator({ seed: 42, runId: "r" });
  for (let i = 0; i < 100; i++) assert.deepEqual(a.payment(), b.payment());
});

Deno.test("another seed gives other payments; another run id gives other ids only", () => {
  const a = createPaymentGenerator({ seed: 1, runId: "r" }).payment();
  const b = createPaymentGenerator({ seed: 2, runId: "r" }).payment();
  const c = createPaymentGenerator({ seed: 1, runId: "s" }).payment();
  assert.notDeepEqual({ ...a, payment_id: "" }, { ...b, payment_id: "" });
  assert.deepEqual({ ...a, payment_id: "" }, { ...c, payment_id: "" });
  assert.notEqual(a.payment_id, c.payment_id);
});

Deno.test("payment ids are unique within a run and carry the run id", () => {
  const gen = createPaymentGenerator({ seed: 3, runId: "run1" });
  const ids = new Set(Array.from({ length: 5000 }, () => gen.payment().payment_id));
  assert.equal(ids.size, 5000);
  for (const id of ids) assert.ok(id.startsWith("lg-run1-"));
});

Deno.test("every generated payment passes the API's schema", () => {
  const gen = createPaymentGenerator({ seed: 4, runId: "r" });
  for (let i = 0; i < 2000; i++) {
    const payment = gen.payment();
    const parsed = PaymentRequestSchema.safeParse(payment);
    assert.ok(parsed.success, JSON.stringify(payment));
  }
});

Deno.test("amounts are log-normal within the limits: median near 45, long tail, never above 10000", () => {
  const gen = createPaymentGenerator({ seed: 5, runId: "r" });
  const amounts = Array.from({ length: 20_000 }, () => gen.payment().amount).sort((x, y) => x - y);
  const median = amounts[amounts.length / 2]!;
  assert.ok(median > 35 && median < 58, `median ${median}`);
  assert.ok(amounts[0]! >= 0.01);
  assert.ok(amounts.at(-1)! <= MAX_AMOUNT);
  assert.ok(amounts.at(-1)! > 1000, "a long tail of large payments");
  for (const a of amounts) assert.equal(Math.round(a * 100) / 100, a);
});

Deno.test("merchants are skewed: the top 10 of 500 carry a large share of traffic", () => {
  const gen = createPaymentGenerator({ seed: 6, runId: "r" });
  const counts = new Map<string, number>();
  for (let i = 0; i < 20_000; i++) {
    const m = gen.payment().merchant_id;
    counts.set(m, (counts.get(m) ?? 0) + 1);
  }
  const sorted = [...counts.values()].sort((a, b) => b - a);
  const top10 = sorted.slice(0, 10).reduce((s, c) => s + c, 0) / 20_000;
  assert.ok(top10 > 0.3 && top10 < 0.7, `top-10 share ${top10}`);
  assert.ok(counts.size > 200, "the long tail is visited too");
});

Deno.test("several currencies appear, USD most often", () => {
  const gen = createPaymentGenerator({ seed: 7, runId: "r" });
  const counts = new Map<string, number>();
  for (let i = 0; i < 10_000; i++) {
    const c = gen.payment().currency;
    counts.set(c, (counts.get(c) ?? 0) + 1);
  }
  assert.equal(counts.size, CURRENCY_WEIGHTS.length);
  assert.ok(counts.get("USD")! / 10_000 > 0.5 && counts.get("USD")! / 10_000 < 0.6);
});

Deno.test("every kind of corruption makes a payment invalid", () => {
  const gen = createPaymentGenerator({ seed: 8, runId: "r" });
  for (const kind of INVALID_KINDS) {
    const broken = corrupt({ ...gen.payment() }, kind);
    assert.equal(PaymentRequestSchema.safeParse(broken).success, false, kind);
  }
});

Deno.test("an invalid ratio of 0.2 makes about a fifth of requests invalid, each with one bad payment", () => {
  const gen = createPaymentGenerator({ seed: 9, runId: "r", invalidRatio: 0.2 });
  let invalid = 0;
  for (let i = 0; i < 2000; i++) {
    const request = gen.request(10);
    const valid = BatchPaymentRequestSchema.safeParse({ payments: request.payments }).success;
    assert.equal(valid, request.invalid === undefined);
    if (request.invalid) invalid += 1;
  }
  assert.ok(invalid > 320 && invalid < 480, `${invalid} invalid of 2000`);
});

Deno.test("duplicates resend accepted payments, once each, never twice in one request", () => {
  const gen = createPaymentGenerator({ seed: 10, runId: "r", duplicateRatio: 0.3 });
  const pool = new AcceptedPool(1000);
  const random = seededRandom(1);
  const seen = new Map<string, number>();
  let duplicates = 0;
  for (let i = 0; i < 300; i++) {
    const request = gen.request(20, pool);
    assert.ok(BatchPaymentRequestSchema.safeParse({ payments: request.payments }).success);
    duplicates += request.duplicates;
    assert.equal(request.fresh.length + request.duplicates, 20);
    for (const id of request.ids) seen.set(id, (seen.get(id) ?? 0) + 1);
    pool.add(request.fresh, random);
  }
  const twice = [...seen.values()].filter((c) => c === 2).length;
  assert.equal([...seen.values()].filter((c) => c > 2).length, 0);
  assert.equal(twice, duplicates);
  assert.ok(duplicates / 6000 > 0.25 && duplicates / 6000 < 0.35, `${duplicates} duplicates`);
});

Deno.test("without accepted payments to resend, a duplicate ratio yields fresh payments", () => {
  const gen = createPaymentGenerator({ seed: 11, runId: "r", duplicateRatio: 1 });
  const request = gen.request(5, new AcceptedPool());
  assert.equal(request.duplicates, 0);
  assert.equal(new Set(request.ids).size, 5);
});

Deno.test("the accepted pool stays within its capacity and hands each payment out once", () => {
  const pool = new AcceptedPool(3);
  const random = seededRandom(2);
  const p = (id: string): GeneratedPayment => ({
    payment_id: id,
    amount: 1,
    merchant_id: "m",
    customer_id: "c",
    currency: "USD",
  });
  pool.add([p("a"), p("b"), p("c"), p("d"), p("e")], random);
  assert.equal(pool.size, 3);
  const taken = [pool.take(random), pool.take(random), pool.take(random)].map((x) => x!.payment_id);
  assert.equal(new Set(taken).size, 3);
  assert.equal(pool.take(random), undefined);
});
