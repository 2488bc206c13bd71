/**
 * Admission control through the HTTP layer, over the fake publisher held like a slow
 * Kafka: what is shed, how it is answered and counted, and when the budget comes back.
 * The same against a real broker and a real producer process:
 * `overload_integration_test.ts`.
 */
import assert from "node:assert/strict";
import { PROBLEM_CONTENT_TYPE } from "@payments/shared/problem";
import { paymentRequest } from "@payments/testing/payments";
import { postJson, testApp } from "./testing.ts";

const batch = (prefix: string, size: number) => ({
  payments: Array.from({ length: size }, (_, i) => paymentRequest(`${prefix}-${i}`)),
});

async function assertShed(response: Response, reason: string) {
  assert.equal(response.status, 503);
  assert.equal(response.headers.get("content-type"), PROBLEM_CONTENT_TYPE);
  assert.equal(response.headers.get("retry-after"), "7");
  const problem = await response.json();
  assert.equal(problem.type, "urn:payments:problem:overloaded");
  assert.equal(problem.reason, reason);
  assert.match(problem.detail, /nothing of it was written/);
  assert.equal(problem.correlation_id, response.headers.get("x-correlation-id"));
}

async function shedCount(metrics: ReturnType<typeof testApp>["metrics"]) {
  const values = (await metrics.requestsShed.get()).values;
  return Object.fromEntries(
    values.filter((v) => v.value > 0).map((
      v,
    ) => [`${v.labels.handler} ${v.labels.reason}`, v.value]),
  );
}

Deno.test("a request that does not fit the in-flight budget is shed at once; the admitted ones all succeed", async () => {
  const { app, publisher, metrics } = testApp({ maxInflightPayments: 500 });
  publisher.hold();
  const admitted = Array.from(
    { length: 5 },
    (_, i) => app.request("/payments/batch", postJson(batch(`IN${i}`, 100))),
  );
  // The held publisher keeps all 500 payments in flight: nothing more fits.
  await assertShed(
    await app.request("/payments/batch", postJson(batch("OUT", 100))),
    "inflight_full",
  );
  await assertShed(
    await app.request("/payments", postJson(paymentRequest("OUT-single"))),
    "inflight_full",
  );
  assert.match(
    await metrics.registry.metrics(),
    /producer_inflight_payments\{[^}]*\} 500\n[^]*producer_inflight_payments_limit\{[^}]*\} 500\n/,
  );
  publisher.release();
  for (const response of await Promise.all(admitted)) assert.equal(response.status, 202);
  assert.equal(publisher.published.length, 500);
  assert.ok(
    !publisher.published.some((r) => r.key.startsWith("OUT")),
    "nothing shed was published",
  );
  assert.deepEqual(await shedCount(metrics), {
    "/payments/batch inflight_full": 1,
    "/payments inflight_full": 1,
  });
  assert.equal((await app.request("/payments", postJson(paymentRequest("AFTER")))).status, 202);
  assert.match(await metrics.registry.metrics(), /producer_inflight_payments\{[^}]*\} 0\n/);
});

Deno.test("a batch is taken whole or not at all: it is shed when only part of it fits", async () => {
  const { app, publisher } = testApp({ maxInflightPayments: 500 });
  publisher.hold();
  const held = app.request("/payments/batch", postJson(batch("HELD", 450)));
  await assertShed(
    await app.request("/payments/batch", postJson(batch("PART", 51))),
    "inflight_full",
  );
  const fits = app.request("/payments/batch", postJson(batch("FITS", 50)));
  publisher.release();
  assert.equal((await held).status, 202);
  assert.equal((await fits).status, 202);
  assert.equal(publisher.published.filter((r) => r.key.startsWith("PART")).length, 0);
});

Deno.test("a request whose body does not fit the bytes being read is shed before its body is read", async () => {
  // A body without Content-Length counts as the largest allowed: it fills this queue.
  const { app, publisher, metrics } = testApp({ maxQueuedBytes: 4096, maxBodyBytes: 4096 });
  const slow = Promise.withResolvers<void>();
  const body = new ReadableStream<Uint8Array>({
    async start(controller) {
      controller.enqueue(new TextEncoder().encode('{"payment_id":"SLOW-1",'));
      await slow.promise;
      controller.enqueue(
        new TextEncoder().encode('"amount":1,"merchant_id":"M","customer_id":"C"}'),
      );
      controller.close();
    },
  });
  const first = app.request("/payments", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body,
    duplex: "half",
  } as RequestInit);
  // Let the first request reach its body read.
  await new Promise((resolve) => setTimeout(resolve, 10));
  let pulled = false;
  const unread = new ReadableStream<Uint8Array>({
    pull(controller) {
      pulled = true;
      controller.enqueue(new TextEncoder().encode(JSON.stringify(paymentRequest("QUEUED-1"))));
      controller.close();
    },
  });
  const second = await app.request("/payments", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: unread,
    duplex: "half",
  } as RequestInit);
  await assertShed(second, "queue_full");
  assert.equal(pulled, false, "the shed request's body was never read");
  slow.resolve();
  assert.equal((await first).status, 202);
  assert.deepEqual(publisher.published.map((r) => r.key), ["SLOW-1"]);
  assert.deepEqual(await shedCount(metrics), { "/payments queue_full": 1 });
  // The place is given back once the request is answered, also for an invalid body.
  assert.equal((await app.request("/payments", postJson({ payment_id: "X" }))).status, 400);
  assert.equal((await app.request("/payments", postJson(paymentRequest("NEXT")))).status, 202);
});

Deno.test("the in-flight budget is held until the publisher lets go, not until the answer", async () => {
  const { app, publisher } = testApp({ maxInflightPayments: 500, sendTimeoutMs: 20 });
  publisher.behaviour = "hang"; // answers after its timeout: settles only then
  const started = app.request("/payments/batch", postJson(batch("HANG", 500)));
  await new Promise((resolve) => setTimeout(resolve, 5));
  await assertShed(
    await app.request("/payments", postJson(paymentRequest("WHILE"))),
    "inflight_full",
  );
  assert.equal((await started).status, 503);
  publisher.behaviour = "accept";
  assert.equal((await app.request("/payments", postJson(paymentRequest("AFTER")))).status, 202);
});

Deno.test("shed requests are counted as shed in /stats, not as produced payments nor as client rejections", async () => {
  const { app, publisher, metrics } = testApp({ maxInflightPayments: 500 });
  publisher.hold();
  const held = app.request("/payments/batch", postJson(batch("H", 500)));
  await assertShed(await app.request("/payments/batch", postJson(batch("S", 10))), "inflight_full");
  publisher.release();
  await held;
  const produced = (await metrics.paymentsProduced.get()).values;
  assert.equal(
    produced.filter((v) => v.labels.status === "failed").reduce((a, v) => a + v.value, 0),
    0,
  );
  const stats = await (await app.request("/stats")).json();
  assert.equal(stats.rejected_requests, 0);
  assert.equal(stats.shed_requests, 1);
  assert.equal(stats.total_requests, 2);
  assert.equal(stats.successful_payments, 500);
  assert.equal(stats.average_batch_size, 500, "a shed request is no published batch");
});

Deno.test("health, readiness and metrics are never shed", async () => {
  const { app, publisher } = testApp({ maxInflightPayments: 500, maxQueuedBytes: 1024 });
  publisher.hold();
  const held = app.request("/payments/batch", postJson(batch("H", 500)));
  for (const path of ["/health", "/ready", "/metrics", "/stats"]) {
    assert.equal((await app.request(path)).status, 200, path);
  }
  publisher.release();
  assert.equal((await held).status, 202);
});
