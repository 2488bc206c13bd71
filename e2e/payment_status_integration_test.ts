/**
 * `GET /payments/{payment_id}` on real processes: a producer routing status reads to the
 * consumer that holds each payment's stores, on the shared broker. Decided, declined,
 * unknown, waited for, repeated, reads that write nothing; and the consumer stopped.
 */
import assert from "node:assert/strict";
import { paymentRequest } from "@payments/testing/payments";
import { getStatus, postPayment } from "@payments/testing/payment_status";
import { startConsumer, startService } from "@payments/testing/services";
import { testKafka } from "@payments/testing/test_kafka";
import { deleteTopics } from "@payments/testing/topics";
import { eventually } from "@payments/testing/wait";

const KEY = "status-test-key";
const BLOCKED = "M-BLOCKED-STATUS";

Deno.test("a payment's outcome over HTTP: decided, declined, unknown, waited for, repeated; reads write nothing", async () => {
  await using t = await testKafka("status", 3);
  try {
    await using consumer = await startConsumer(t, {
      env: { CONSUMER_BLOCKED_MERCHANTS: BLOCKED },
    });
    await using producer = await startService("producer", {
      brokers: t.brokers,
      topics: t.topics,
      groupId: t.groupId,
      env: { API_KEYS: KEY, LAG_MONITOR_ENABLED: "false" },
    });
    const context = () =>
      `--- producer ---\n${producer.tail()}\n--- consumer ---\n${consumer.tail()}`;
    const run = crypto.randomUUID().slice(0, 8);
    const url = (id: string) => `${producer.url}/payments/${id}`;

    // Waited for: the GET right after the 202, with ?wait=, returns the decision.
    const payment = paymentRequest(`ST-${run}-ok`, { customer_id: `C-${run}-ok` });
    const posted = await postPayment(producer.url, payment, { key: KEY });
    assert.equal(posted.status, 202, JSON.stringify(posted.body));
    assert.equal(posted.location, `/payments/ST-${run}-ok`);
    const decided = await getStatus(`${producer.url}${posted.location}`, { wait: 20, key: KEY });
    assert.equal(decided.status, 200, `${JSON.stringify(decided.body)}\n${context()}`);
    const body = decided.body;
    assert.deepEqual(
      [body.payment_id, body.status, body.reason, body.rule, body.duplicates, body.stale],
      [payment.payment_id, "APPROVED", null, null, 0, false],
    );
    assert.deepEqual([body.partition, body.offset], [posted.body.partition, posted.body.offset]);
    assert.equal(body.correlation_id, posted.body.correlation_id);
    assert.ok(Date.parse(body.decided_at) >= Date.parse(body.created_at), JSON.stringify(body));

    // Declined, by a rule the answer names; found through a batch's status_url.
    const batch = await postPayment(producer.url, {
      payments: [
        paymentRequest(`ST-${run}-blocked`, { customer_id: `C-${run}-b`, merchant_id: BLOCKED }),
        paymentRequest(`ST-${run}-over`, { customer_id: `C-${run}-o`, amount: 9000 }),
      ],
    }, { key: KEY, path: "/payments/batch" });
    assert.equal(batch.status, 202, JSON.stringify(batch.body));
    const declined = await Promise.all(
      batch.body.results.map((r: { status_url: string }) =>
        getStatus(`${producer.url}${r.status_url}`, { wait: 20, key: KEY })
      ),
    );
    assert.deepEqual(
      declined.map((d) => [d.status, d.body.status, d.body.reason]),
      [[200, "DECLINED", "merchant_blocked"], [200, "DECLINED", "amount_over_limit"]],
      context(),
    );
    assert.match(declined[0]!.body.rule, /CONSUMER_BLOCKED_MERCHANTS/);

    // Unknown: a 404 of its own type, at once and after a wait.
    for (const wait of [undefined, 1]) {
      const unknown = await getStatus(url(`NEVER-${run}`), { key: KEY, ...(wait ? { wait } : {}) });
      assert.equal(unknown.status, 404, JSON.stringify(unknown.body));
      assert.equal(unknown.body.type, "urn:payments:problem:no-decision");
      assert.equal(unknown.body.received, false);
    }

    // Repeated: each repeat is answered DUPLICATE and counted; the outcome stays the first.
    for (let i = 0; i < 2; i++) {
      const again = await postPayment(producer.url, payment, {
        key: KEY,
        path: "/payments/single",
      });
      assert.equal(again.status, 202);
    }
    let repeated: Awaited<ReturnType<typeof getStatus>> | undefined;
    await eventually(
      async () =>
        (repeated = await getStatus(url(payment.payment_id), { key: KEY })).body.duplicates === 2,
      30_000,
      "two repeats counted",
      { intervalMs: 200, context: () => `${JSON.stringify(repeated?.body)}\n${context()}` },
    );
    assert.deepEqual(
      [repeated!.body.status, repeated!.body.decided_at, repeated!.body.offset],
      ["APPROVED", body.decided_at, body.offset],
    );

    // Reads write nothing: every topic's end offsets are the same after a burst of reads.
    const ends = async () =>
      await Promise.all(
        Object.values(t.topics).map(async (topic) =>
          JSON.stringify(await t.admin.fetchTopicOffsets(topic))
        ),
      );
    const before = await ends();
    const reads = await Promise.all(
      Array.from(
        { length: 30 },
        (_, i) =>
          getStatus(url(i % 3 === 0 ? `NEVER-${run}-${i}` : payment.payment_id), {
            key: KEY,
            ...(i % 5 === 0 ? { wait: 0.2 } : {}),
          }),
      ),
    );
    assert.deepEqual([...new Set(reads.map((r) => r.status))].sort(), [200, 404]);
    assert.deepEqual(await ends(), before, "no topic got a record from the reads");

    // The same authentication and validation as the POSTs.
    assert.equal((await getStatus(url(payment.payment_id))).status, 401);
    const bad = await getStatus(url("bad%20id"), { key: KEY });
    assert.deepEqual([bad.status, bad.body.errors[0].path], [400, "payment_id"]);
    const tooLong = await getStatus(url(payment.payment_id), { key: KEY, wait: 31 });
    assert.deepEqual([tooLong.status, tooLong.body.errors[0].path], [400, "wait"]);

    // Status reads leave the producer's output JSON Lines (Deno warns on stderr, once,
    // when a handler reads request.signal).
    const notJson = producer.lines().filter((line) => {
      try {
        JSON.parse(line);
        return false;
      } catch {
        return true;
      }
    });
    assert.deepEqual(notJson, [], "every line the producer wrote is JSON");
  } finally {
    await deleteTopics(t.brokers, Object.values(t.topics));
  }
});

Deno.test("with its consumer killed or gone, a status read is a 503 with Retry-After, never a 404; a new consumer answers again", async () => {
  await using t = await testKafka("status-down", 3);
  try {
    await using first = await startConsumer(t);
    await using producer = await startService("producer", {
      brokers: t.brokers,
      topics: t.topics,
      groupId: t.groupId,
      env: { LAG_MONITOR_ENABLED: "false", PRODUCER_RETRY_AFTER_SECONDS: "3" },
    });
    const id = `DOWN-${crypto.randomUUID().slice(0, 8)}`;
    const posted = await postPayment(producer.url, paymentRequest(id, { customer_id: `C-${id}` }));
    assert.equal(posted.status, 202);
    const statusUrl = `${producer.url}${posted.location}`;
    const decided = await getStatus(statusUrl, { wait: 20 });
    assert.equal(decided.status, 200, `${JSON.stringify(decided.body)}\n${first.tail()}`);

    // Killed: the group still names it (its session has 6 s to run), and it does not answer.
    first.kill("SIGKILL");
    await first.exited;
    const killed = await getStatus(statusUrl);
    assert.equal(killed.status, 503, JSON.stringify(killed.body));
    assert.equal(killed.headers.get("retry-after"), "3");
    assert.equal(killed.body.type, "urn:payments:problem:status-unavailable");
    assert.match(killed.body.detail, /cannot be reached|owns/);

    // Gone from the group: nobody owns the payment's task; a waiting read waits, then 503.
    let gone: Awaited<ReturnType<typeof getStatus>> | undefined;
    await eventually(
      async () => /no instance owns/.test((gone = await getStatus(statusUrl)).body.detail),
      30_000,
      "the group without its member",
      { intervalMs: 500, context: () => JSON.stringify(gone?.body) },
    );
    assert.equal(gone!.status, 503);
    const waited = await getStatus(statusUrl, { wait: 1 });
    assert.equal(waited.status, 503, JSON.stringify(waited.body));

    // A new consumer on another disk restores the stores from the changelogs and answers.
    await using _second = await startConsumer(t);
    const back = await getStatus(statusUrl, { wait: 20 });
    assert.equal(back.status, 200, JSON.stringify(back.body));
    assert.deepEqual(
      [back.body.status, back.body.decided_at, back.body.stale],
      ["APPROVED", decided.body.decided_at, false],
    );
  } finally {
    await deleteTopics(t.brokers, Object.values(t.topics));
  }
});
