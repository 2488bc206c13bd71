import assert from "node:assert/strict";
import { readAnswers } from "@payments/testing/answers";
import { assertExactlyOnce, judgeAnswers } from "@payments/testing/exactly_once";
import { paymentEvent } from "@payments/testing/payments";
import { produce } from "@payments/testing/produce";
import { testKafka } from "@payments/testing/test_kafka";
import { runService, testSettings } from "./testing.ts";
import { TransientError } from "./worker.ts";

Deno.test("each business rule gives its outcome, exactly one result per payment", async () => {
  await using t = await testKafka("rules");
  const settings = testSettings({
    CONSUMER_AMOUNT_LIMITS: "USD:1000",
    CONSUMER_BLOCKED_MERCHANTS: "M-BLOCKED",
    CONSUMER_VELOCITY_MAX_PER_MINUTE: "2",
  });
  const base = Date.parse("2026-01-01T00:00:00Z");
  const at = (s: number) => new Date(base + s * 1000).toISOString();
  const ok = paymentEvent();
  const big = paymentEvent({ amount: 1000.01 });
  const blocked = paymentEvent({ merchant_id: "M-BLOCKED" });
  // Velocity by created_at: 3rd within a minute is declined, one 2 minutes later is fine.
  const v = [0, 10, 20, 140].map((s) => paymentEvent({ customer_id: "C-FAST", created_at: at(s) }));
  const dup = { ...ok, correlation_id: "corr-again" };
  const inputs = [ok, big, blocked, ...v, dup];
  await produce(t, inputs, { partition: 0 });
  await using _service = await runService(t, { settings });
  const answers = await readAnswers(t, inputs.length);
  assertExactlyOnce(judgeAnswers(answers, inputs.length, t.topics.requests));
  // One result per request, each with its rule's outcome. Their order on the results
  // topic is the order they committed in: a DUPLICATE is answered by the request's
  // payment task at once, a decision by its customer's task after the forward.
  const outcomes = answers.map((a) =>
    `${a.result?.payment_id}:${a.result?.outcome}:${a.result?.reason}`
  ).sort();
  assert.deepEqual(
    outcomes,
    [
      `${ok.payment_id}:APPROVED:null`,
      `${big.payment_id}:DECLINED:amount_over_limit`,
      `${blocked.payment_id}:DECLINED:merchant_blocked`,
      `${v[0]!.payment_id}:APPROVED:null`,
      `${v[1]!.payment_id}:APPROVED:null`,
      `${v[2]!.payment_id}:DECLINED:velocity_exceeded`,
      `${v[3]!.payment_id}:APPROVED:null`,
      `${ok.payment_id}:DUPLICATE:duplicate_payment_id`,
    ].sort(),
  );
  const first = answers.find((a) =>
    a.result?.payment_id === ok.payment_id && a.result?.outcome === "APPROVED"
  )!;
  assert.equal(first.headers.correlation_id, ok.correlation_id);
  assert.equal(first.key, ok.payment_id);
});

Deno.test("transient failures are retried and succeed; permanent ones are dead-lettered after the configured attempts", async () => {
  await using t = await testKafka("retries", 1);
  const flaky = paymentEvent();
  const broken = paymentEvent();
  const after = paymentEvent();
  const attempts = new Map<string, number>();
  const faults = (event: { payment_id: string }, attempt: number) => {
    attempts.set(event.payment_id, attempt);
    if (event.payment_id === flaky.payment_id && attempt < 3) throw new TransientError("flaky");
    if (event.payment_id === broken.payment_id) throw new TransientError("always down");
  };
  await produce(t, [flaky, broken, after]);
  await using _service = await runService(t, {
    settings: testSettings({ CONSUMER_MAX_ATTEMPTS: "4" }),
    faults,
  });
  const answers = await readAnswers(t, 3);
  assertExactlyOnce(judgeAnswers(answers, 3, t.topics.requests));
  const results = answers.filter((a) => a.result).map((
    a,
  ) => [a.result!.payment_id, a.result!.outcome]);
  assert.deepEqual(results, [[flaky.payment_id, "APPROVED"], [after.payment_id, "APPROVED"]]);
  const dead = answers.filter((a) => a.topic === t.topics.dlq);
  assert.equal(dead.length, 1);
  assert.equal(dead[0]!.key, broken.payment_id);
  assert.equal(dead[0]!.headers.dlq_reason, "processing_failed");
  assert.equal(dead[0]!.headers.attempts, "4");
  assert.equal(dead[0]!.headers.dlq_error, "always down");
  assert.equal(attempts.get(flaky.payment_id), 3);
  assert.equal(attempts.get(broken.payment_id), 4);
});

Deno.test("the same payment twice with a restart in between is APPROVED then DUPLICATE", async () => {
  await using t = await testKafka("restart-dup");
  const p = paymentEvent();
  await produce(t, [p]);
  {
    await using _first = await runService(t);
    assert.equal((await readAnswers(t, 1, 20_000, 200)).length, 1);
  }
  await produce(t, [{ ...p, correlation_id: "again" }]);
  await using _second = await runService(t);
  const answers = await readAnswers(t, 2);
  assertExactlyOnce(judgeAnswers(answers, 2, t.topics.requests));
  assert.deepEqual(answers.map((a) => a.result?.outcome), ["APPROVED", "DUPLICATE"]);
});

Deno.test("a transaction whose results exceed the broker's 1 MiB batch limit still commits", async () => {
  await using t = await testKafka("big-transaction", 1);
  // 3000 results of ~500 bytes in one transaction: one produce batch of about 1.5 MB
  // would be refused (MESSAGE_TOO_LARGE) and the partition would stall.
  const settings = testSettings({
    CONSUMER_MAX_RECORDS_PER_TRANSACTION: "3000",
    CONSUMER_VELOCITY_MAX_PER_MINUTE: "100000",
  });
  const inputs = Array.from({ length: 3000 }, () => paymentEvent());
  await produce(t, inputs, { partition: 0 });
  await using _service = await runService(t, { settings });
  const answers = await readAnswers(t, inputs.length, 45_000);
  assertExactlyOnce(judgeAnswers(answers, inputs.length, t.topics.requests));
  assert.ok(answers.every((a) => a.result?.outcome === "APPROVED"));
});
