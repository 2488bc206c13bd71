import assert from "node:assert/strict";
import { PROBLEM_CONTENT_TYPE } from "@payments/shared/problem";
import { PaymentEventSchema } from "@payments/shared/payment";
import { readRecordHeaders } from "@payments/shared/record_headers";
import { paymentRequest } from "@payments/testing/payments";
import { postJson, testApp } from "./testing.ts";

async function problemOf(response: Response, status: number) {
  assert.equal(response.status, status);
  assert.equal(response.headers.get("content-type"), PROBLEM_CONTENT_TYPE);
  const body = await response.json();
  assert.equal(body.status, status);
  assert.equal(body.correlation_id, response.headers.get("x-correlation-id"));
  return body;
}

Deno.test("POST /payments/batch answers 202 with the lab's shape and a position per payment", async () => {
  const { app, publisher } = testApp();
  const response = await app.request(
    "/payments/batch",
    postJson({
      payments: [paymentRequest("A-1"), paymentRequest("A-2", { amount: 1.234, currency: "BHD" })],
    }),
  );
  assert.equal(response.status, 202);
  const body = await response.json();
  assert.equal(body.total_payments, 2);
  assert.equal(body.successful, 2);
  assert.equal(body.failed, 0);
  assert.match(body.batch_id, /^[0-9a-f-]{36}$/);
  assert.equal(typeof body.processing_time_ms, "number");
  assert.deepEqual(body.results.map((r: { payment_id: string }) => r.payment_id), ["A-1", "A-2"]);
  for (const result of body.results) {
    assert.equal(result.status, "accepted");
    assert.ok(Number.isInteger(result.partition) && Number.isInteger(result.offset));
  }
  // Each payment echoes the amount and currency as stored: exactly as sent.
  assert.deepEqual(
    body.results.map((r: { amount: number; currency: string }) => [r.amount, r.currency]),
    [[paymentRequest("A-1").amount, "USD"], [1.234, "BHD"]],
  );
  assert.equal(publisher.calls, 1, "one send per request");
  assert.deepEqual(publisher.published.map((r) => r.key), ["A-1", "A-2"]);
  const event = PaymentEventSchema.parse(JSON.parse(publisher.published[1]!.value));
  assert.equal(event.amount, 1.234);
  assert.equal(event.currency, "BHD");
  assert.equal(event.correlation_id, body.correlation_id);
});

Deno.test("an amount with more decimal places than its currency allows is a 400 naming the field, never rounded", async () => {
  const { app, publisher } = testApp();
  const cases = [
    { amount: 1.005, currency: undefined, path: "amount" },
    { amount: 1.5, currency: "JPY", path: "amount" },
    { amount: 1.2345, currency: "KWD", path: "amount" },
  ];
  for (const { amount, currency, path } of cases) {
    const payment = paymentRequest("R-1", { amount, ...(currency ? { currency } : {}) });
    const problem = await problemOf(await app.request("/payments", postJson(payment)), 400);
    assert.deepEqual(problem.errors.map((e: { path: string }) => e.path), [path]);
    assert.match(problem.errors[0].message, /never rounded/);
    const batch = await problemOf(
      await app.request(
        "/payments/batch",
        postJson({ payments: [paymentRequest("B-0"), payment] }),
      ),
      400,
    );
    assert.deepEqual(batch.errors.map((e: { path: string }) => e.path), [`payments.1.${path}`]);
  }
  assert.equal(publisher.calls, 0);
  const whole = await app.request(
    "/payments/single",
    postJson(paymentRequest("R-2", { amount: 1500, currency: "JPY" })),
  );
  assert.equal(whole.status, 202);
  const body = await whole.json();
  assert.deepEqual([body.amount, body.currency], [1500, "JPY"]);
});

Deno.test("POST /payments and /payments/single answer 202 with the payment's position", async () => {
  const { app, publisher } = testApp();
  for (const path of ["/payments", "/payments/single"]) {
    const response = await app.request(path, postJson(paymentRequest(`S${path.length}`)));
    assert.equal(response.status, 202);
    const body = await response.json();
    assert.equal(body.status, "accepted");
    assert.equal(body.payment_id, `S${path.length}`);
    assert.equal(body.topic, publisher.topic);
    assert.equal(body.correlation_id, response.headers.get("x-correlation-id"));
    assert.ok(Number.isInteger(body.partition) && Number.isInteger(body.offset));
  }
  assert.equal(publisher.published.length, 2);
});

Deno.test("a safe x-correlation-id is echoed and stamped on every record with source and content type", async () => {
  const { app, publisher } = testApp();
  const response = await app.request(
    "/payments/batch",
    postJson({ payments: [paymentRequest("A-1"), paymentRequest("A-2")] }, {
      "x-correlation-id": "req-42",
    }),
  );
  assert.equal(response.status, 202);
  assert.equal(response.headers.get("x-correlation-id"), "req-42");
  for (const record of publisher.published) {
    const headers = readRecordHeaders(record.headers);
    assert.equal(headers.correlationId, "req-42");
    assert.equal(headers.source, "payment-producer");
    assert.equal(headers.contentType, "application/json");
    // The trace context is OpenTelemetry's (producer/trace_headers_test.ts).
  }
});

Deno.test("the batch body's correlation_id wins over the header", async () => {
  const { app, publisher } = testApp();
  const response = await app.request(
    "/payments/batch",
    postJson({ payments: [paymentRequest("A-1")], correlation_id: "body-id" }, {
      "x-correlation-id": "header-id",
    }),
  );
  assert.equal(response.headers.get("x-correlation-id"), "body-id");
  assert.equal((await response.json()).correlation_id, "body-id");
  assert.equal(readRecordHeaders(publisher.published[0]!.headers).correlationId, "body-id");
});

Deno.test("an unsafe x-correlation-id is replaced by a fresh UUID", async () => {
  const { app } = testApp();
  for (const offered of ["has space", "x".repeat(129), "tab\there"]) {
    const response = await app.request("/health", { headers: { "x-correlation-id": offered } });
    assert.match(response.headers.get("x-correlation-id")!, /^[0-9a-f-]{36}$/);
  }
});

Deno.test("malformed JSON is a 400 problem and nothing is published", async () => {
  const { app, publisher } = testApp();
  for (const body of ["{bad", "", "[1,", "nul"]) {
    const problem = await problemOf(await app.request("/payments/batch", postJson(body)), 400);
    assert.equal(problem.type, "urn:payments:problem:malformed-json");
  }
  assert.equal(publisher.calls, 0);
});

Deno.test("invalid fields are a 400 problem naming every offending path", async () => {
  const { app, publisher } = testApp();
  const response = await app.request(
    "/payments/batch",
    postJson({
      payments: [
        paymentRequest("A-1"),
        paymentRequest("A-2", { amount: 0 }),
        paymentRequest("A-3", { amount: 10000.01, currency: "XXQ" }),
        paymentRequest("A 4", { merchant_id: "" }),
        { ...paymentRequest("A-5"), customer_id: undefined, extra: true },
      ],
      unknown: 1,
    }),
  );
  const problem = await problemOf(response, 400);
  assert.equal(problem.type, "urn:payments:problem:validation");
  const paths = problem.errors.map((error: { path: string }) => error.path).sort();
  for (
    const expected of [
      "payments.1.amount",
      "payments.2.amount",
      "payments.2.currency",
      "payments.3.payment_id",
      "payments.3.merchant_id",
      "payments.4.customer_id",
    ]
  ) {
    assert.ok(paths.includes(expected), `missing ${expected} in ${paths}`);
  }
  assert.ok(paths.some((path: string) => path === "payments.4" || path === "body"), "unknown keys");
  assert.equal(publisher.calls, 0);
});

Deno.test("non-number amounts (strings, NaN as null, Infinity as 1e999) are rejected", async () => {
  const { app, publisher } = testApp();
  for (const amount of ['"10"', "null", "1e999", "-0"]) {
    const body = `{"payment_id":"P-1","amount":${amount},"merchant_id":"M","customer_id":"C"}`;
    const problem = await problemOf(await app.request("/payments", postJson(body)), 400);
    assert.equal(problem.errors[0].path, "amount");
  }
  assert.equal(publisher.calls, 0);
});

Deno.test("an empty batch and a batch of 501 are 400 problems", async () => {
  const { app } = testApp();
  await problemOf(await app.request("/payments/batch", postJson({ payments: [] })), 400);
  const many = Array.from({ length: 501 }, (_, i) => paymentRequest(`P-${i}`));
  const problem = await problemOf(
    await app.request("/payments/batch", postJson({ payments: many })),
    400,
  );
  assert.equal(problem.errors[0].path, "payments");
});

Deno.test("duplicate payment ids in one batch are a 400 naming each repeat", async () => {
  const { app, publisher } = testApp();
  const response = await app.request(
    "/payments/batch",
    postJson({
      payments: [
        paymentRequest("D-1"),
        paymentRequest("D-2"),
        paymentRequest("D-1"),
        paymentRequest("D-2"),
      ],
    }),
  );
  const problem = await problemOf(response, 400);
  assert.deepEqual(
    problem.errors.map((error: { path: string }) => error.path),
    ["payments.2.payment_id", "payments.3.payment_id"],
  );
  assert.match(problem.errors[0].message, /D-1/);
  assert.equal(publisher.calls, 0);
});

Deno.test("a body over the limit is a 413 problem, declared or streamed", async () => {
  const { app, publisher } = testApp({ maxBodyBytes: 2048 });
  const big = JSON.stringify({
    payments: [paymentRequest("A-1", { description: "x".repeat(3000) })],
  });
  await problemOf(await app.request("/payments/batch", postJson(big)), 413);
  const stream = new ReadableStream({
    start(controller) {
      controller.enqueue(new TextEncoder().encode(big));
      controller.close();
    },
  });
  const response = await app.request("/payments/batch", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: stream,
  });
  await problemOf(response, 413);
  assert.equal(publisher.calls, 0);
});

Deno.test("a body that is not JSON is a 415 problem", async () => {
  const { app, publisher } = testApp();
  for (const type of [undefined, "text/plain", "application/x-www-form-urlencoded", "jsonx"]) {
    const headers: Record<string, string> = type ? { "content-type": type } : {};
    const response = await app.request("/payments", {
      method: "POST",
      headers,
      body: JSON.stringify(paymentRequest("A-1")),
    });
    await problemOf(response, 415);
  }
  const ok = await app.request(
    "/payments",
    postJson(paymentRequest("A-2"), { "content-type": "application/json; charset=utf-8" }),
  );
  assert.equal(ok.status, 202);
  assert.equal(publisher.calls, 1);
});

Deno.test("unknown routes are 404 problems and wrong methods 405 with Allow", async () => {
  const { app, statuses } = testApp();
  const notFound = await problemOf(await app.request("/nope"), 404);
  assert.equal(notFound.instance, "/nope");
  for (const method of ["PUT", "DELETE", "PATCH"]) {
    const response = await app.request("/payments/batch", { method });
    await problemOf(response, 405);
    // GET is the status of the payment whose id is "batch".
    assert.equal(response.headers.get("allow"), "POST, GET, HEAD");
    const status = await app.request("/payments/P-1", { method });
    await problemOf(status, 405);
    assert.equal(status.headers.get("allow"), "GET, HEAD");
  }
  const batchStatus = await problemOf(await app.request("/payments/batch"), 404);
  assert.equal(batchStatus.type, "urn:payments:problem:no-decision");
  assert.deepEqual(statuses.reads.map((r) => r.paymentId), ["batch"]);
  const response = await app.request("/health", { method: "POST" });
  await problemOf(response, 405);
  assert.equal(response.headers.get("allow"), "GET, HEAD");
});

Deno.test("with API keys, payments and stats need a valid bearer key; health, metrics, docs stay open", async () => {
  const { app, publisher } = testApp({ apiKeys: ["k-one", "k-two"] });
  for (const authorization of [undefined, "Bearer wrong", "Basic k-one", "Bearer k-one-extra"]) {
    const headers: Record<string, string> = authorization ? { authorization } : {};
    const response = await app.request("/payments", postJson(paymentRequest("A-1"), headers));
    await problemOf(response, 401);
    assert.match(response.headers.get("www-authenticate")!, /^Bearer/);
    await problemOf(await app.request("/stats", { headers }), 401);
  }
  assert.equal(publisher.calls, 0);
  for (const key of ["k-one", "k-two"]) {
    const response = await app.request(
      "/payments",
      postJson(paymentRequest(`A-${key}`), { authorization: `Bearer ${key}` }),
    );
    assert.equal(response.status, 202);
  }
  for (const path of ["/health", "/ready", "/metrics", "/openapi.json", "/docs"]) {
    assert.equal((await app.request(path)).status, 200, path);
  }
});

Deno.test("a retriable publish failure is a 503 problem with Retry-After and no payment accepted", async () => {
  const { app, publisher } = testApp();
  publisher.behaviour = "unavailable";
  const response = await app.request(
    "/payments/batch",
    postJson({ payments: [paymentRequest("A-1"), paymentRequest("A-2")] }),
  );
  const problem = await problemOf(response, 503);
  assert.equal(response.headers.get("retry-after"), "7");
  assert.equal(problem.type, "urn:payments:problem:kafka-unavailable");
  assert.equal(problem.results, undefined);
  assert.equal(publisher.published.length, 0);
});

Deno.test("a send that times out is a 503 with Retry-After", async () => {
  const { app, publisher } = testApp({ sendTimeoutMs: 20 });
  publisher.behaviour = "hang";
  const response = await app.request("/payments", postJson(paymentRequest("A-1")));
  await problemOf(response, 503);
  assert.equal(response.headers.get("retry-after"), "7");
});

Deno.test("a permanent publish failure is a 503 without Retry-After", async () => {
  const { app, publisher } = testApp();
  publisher.behaviour = "rejected";
  const response = await app.request("/payments", postJson(paymentRequest("A-1")));
  await problemOf(response, 503);
  assert.equal(response.headers.get("retry-after"), null);
});

Deno.test("/ready follows the publisher's readiness; /health stays 200", async () => {
  const { app, publisher } = testApp();
  assert.equal((await app.request("/ready")).status, 200);
  publisher.isReady = false;
  const response = await app.request("/ready");
  await problemOf(response, 503);
  assert.ok(response.headers.get("retry-after"));
  const health = await app.request("/health");
  assert.equal(health.status, 200);
  assert.equal((await health.json()).status, "healthy");
});

Deno.test("/stats counts requests, payments and rejections since start", async () => {
  const { app, publisher } = testApp();
  await app.request(
    "/payments/batch",
    postJson({ payments: [paymentRequest("A-1"), paymentRequest("A-2")] }),
  );
  await app.request("/payments", postJson(paymentRequest("A-3")));
  await app.request("/payments", postJson("{"));
  publisher.behaviour = "unavailable";
  await app.request("/payments", postJson(paymentRequest("A-4")));
  const stats = await (await app.request("/stats")).json();
  assert.equal(stats.total_requests, 4);
  assert.equal(stats.total_batches, 1);
  assert.equal(stats.successful_payments, 3);
  assert.equal(stats.failed_payments, 1);
  assert.equal(stats.rejected_requests, 1);
  assert.equal(stats.kafka_ready, true);
  assert.ok(stats.last_payment_at);
});

Deno.test("/openapi.json documents every endpoint from the shared schemas", async () => {
  const { app } = testApp({ apiKeys: ["k"] });
  const doc = await (await app.request("/openapi.json")).json();
  for (
    const path of [
      "/payments",
      "/payments/single",
      "/payments/batch",
      "/health",
      "/ready",
      "/stats",
    ]
  ) {
    assert.ok(doc.paths[path], path);
  }
  assert.ok(doc.components.schemas.PaymentRequest);
  assert.ok(doc.components.schemas.BatchPaymentRequest);
  assert.ok(doc.paths["/payments/batch"].post.responses["202"]);
  assert.ok(doc.paths["/payments/batch"].post.responses["503"]);
  assert.ok(doc.components.securitySchemes.bearer);
  // Amounts: the rule on decimal places, and the echo of what was stored.
  const amount = doc.components.schemas.PaymentRequest.properties.amount;
  assert.match(amount.description, /ISO 4217 minor unit.*never rounded/s);
  const accepted = doc.components.schemas.AcceptedPayment;
  assert.ok(accepted.required.includes("amount") && accepted.required.includes("currency"));
  const docs = await app.request("/docs");
  assert.match(await docs.text(), /swagger/i);
});
