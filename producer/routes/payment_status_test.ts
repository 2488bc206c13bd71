import assert from "node:assert/strict";
import { PROBLEM_CONTENT_TYPE } from "@payments/shared/problem";
import { paymentRequest } from "@payments/testing/payments";
import { decidedStatus } from "../fake_status_reader.ts";
import { PaymentStatusSchema } from "../schemas.ts";
import { postJson, testApp } from "../testing.ts";

async function problemOf(response: Response, status: number) {
  assert.equal(response.status, status);
  assert.equal(response.headers.get("content-type"), PROBLEM_CONTENT_TYPE);
  const body = await response.json();
  assert.equal(body.correlation_id, response.headers.get("x-correlation-id"));
  return body;
}

Deno.test("GET /payments/{payment_id} answers 200 with the decision the reader found", async () => {
  const { app, statuses, publisher } = testApp();
  const status = decidedStatus("P-1", {
    status: "DECLINED",
    reason: "merchant_blocked",
    rule: "the merchant is blocked (CONSUMER_BLOCKED_MERCHANTS)",
    duplicates: 2,
    stale: true,
  });
  statuses.answers.set("P-1", { kind: "decided", status });
  const response = await app.request("/payments/P-1");
  assert.equal(response.status, 200);
  const body = await response.json();
  assert.deepEqual(body, status);
  assert.deepEqual(PaymentStatusSchema.parse(body), status, "the documented shape");
  assert.deepEqual(statuses.reads, [{ paymentId: "P-1", waitMs: 0 }]);
  assert.equal(publisher.calls, 0, "a read never writes to Kafka");
});

Deno.test("?wait= in seconds reaches the reader in milliseconds; out of 0-30 it is a 400", async () => {
  const { app, statuses } = testApp({ retryAfterSeconds: 7 });
  statuses.behaviour = "decided";
  for (const [wait, ms] of [["2.5", 2500], ["30", 30000], ["0", 0]] as const) {
    const response = await app.request(`/payments/P-1?wait=${wait}`);
    assert.equal(response.status, 200, `wait=${wait}`);
    await response.body?.cancel();
    assert.equal(statuses.reads.at(-1)?.waitMs, ms);
  }
  for (const wait of ["31", "-1", "soon", "Infinity"]) {
    const problem = await problemOf(await app.request(`/payments/P-1?wait=${wait}`), 400);
    assert.deepEqual(problem.errors.map((e: { path: string }) => e.path), ["wait"], wait);
  }
  assert.equal(statuses.reads.length, 3, "an invalid wait is never read");
});

Deno.test("a payment id the POST would refuse is a 400 naming payment_id, never read", async () => {
  const { app, statuses } = testApp();
  for (const id of ["bad%20id", "-leading-dash", "x".repeat(65), "caf%C3%A9", "a%2Fb"]) {
    const problem = await problemOf(await app.request(`/payments/${id}`), 400);
    assert.equal(problem.type, "urn:payments:problem:validation");
    assert.deepEqual(problem.errors.map((e: { path: string }) => e.path), ["payment_id"], id);
  }
  assert.equal(statuses.reads.length, 0);
});

Deno.test("no decision known is a 404 no-decision saying whether the payment was received", async () => {
  const { app, statuses } = testApp();
  statuses.behaviour = "unknown";
  const unknown = await problemOf(await app.request("/payments/P-9?wait=1"), 404);
  assert.equal(unknown.type, "urn:payments:problem:no-decision");
  assert.equal(unknown.received, false);
  assert.match(unknown.detail, /No payment P-9 is known.*\(waited 1 s\)/);
  statuses.behaviour = "deciding";
  const deciding = await problemOf(await app.request("/payments/P-9"), 404);
  assert.equal(deciding.type, "urn:payments:problem:no-decision");
  assert.equal(deciding.received, true);
  assert.match(deciding.detail, /P-9 was received .* and is being decided/);
});

Deno.test("a status nobody can answer is a 503 status-unavailable with Retry-After", async () => {
  const { app, statuses } = testApp({ retryAfterSeconds: 7 });
  statuses.behaviour = "unavailable";
  const response = await app.request("/payments/P-3");
  const problem = await problemOf(response, 503);
  assert.equal(problem.type, "urn:payments:problem:status-unavailable");
  assert.equal(response.headers.get("retry-after"), "7");
  assert.match(problem.detail, /no instance owns payments-2 now.*says nothing about the payment/);
});

Deno.test("with API keys a status read needs a key like the POSTs", async () => {
  const { app, statuses } = testApp({ apiKeys: ["k-one"] });
  statuses.behaviour = "decided";
  await problemOf(await app.request("/payments/P-1"), 401);
  await problemOf(
    await app.request("/payments/P-1", { headers: { authorization: "Bearer nope" } }),
    401,
  );
  const ok = await app.request("/payments/P-1", { headers: { authorization: "Bearer k-one" } });
  assert.equal(ok.status, 200);
  await ok.body?.cancel();
  assert.equal(statuses.reads.length, 1);
});

Deno.test("POST answers point at each payment's status: Location for one, status_url per result", async () => {
  const { app } = testApp();
  for (const path of ["/payments", "/payments/single"]) {
    const response = await app.request(path, postJson(paymentRequest(`L${path.length}`)));
    assert.equal(response.status, 202);
    assert.equal(response.headers.get("location"), `/payments/L${path.length}`);
    assert.equal((await response.json()).status_url, `/payments/L${path.length}`);
  }
  const batch = await app.request(
    "/payments/batch",
    postJson({ payments: [paymentRequest("B-1"), paymentRequest("B:2.x")] }),
  );
  assert.equal(batch.status, 202);
  assert.equal(batch.headers.get("location"), null, "a batch has no single status");
  const { results } = await batch.json();
  assert.deepEqual(results.map((r: { status_url: string }) => r.status_url), [
    "/payments/B-1",
    "/payments/B:2.x",
  ]);
  // Each status URL is one the status route serves, as it is.
  for (const { status_url } of results) {
    const response = await app.request(status_url);
    assert.equal(response.status, 404);
    await response.body?.cancel();
  }
});
