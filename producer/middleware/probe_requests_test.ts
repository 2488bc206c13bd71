import assert from "node:assert/strict";
import { PROBE_ID_PREFIX, PROBE_MERCHANT_ID } from "@payments/shared/probe";
import { sampleValue } from "@payments/testing/metrics_text";
import { paymentRequest } from "@payments/testing/payments";
import { postJson, TEST_PROBE_TOKEN, testApp } from "../testing.ts";
import { PROBE_HEADER } from "./probe_requests.ts";

const probeId = `${PROBE_ID_PREFIX}0f4e6b1e-0f4e-4a57-8d0e-0b7f1f0c2a11`;

Deno.test("a client may not use the probe's id prefix or merchant: 400 naming each field, nothing written", async () => {
  const { app, publisher } = testApp();
  const one = await app.request("/payments", postJson(paymentRequest(probeId)));
  assert.equal(one.status, 400);
  const body = await one.json();
  assert.equal(body.type, "urn:payments:problem:validation");
  assert.deepEqual(body.errors.map((e: { path: string }) => e.path), ["payment_id"]);
  assert.match(body.errors[0].message, /reserved for the pipeline probe/);

  const batch = await app.request(
    "/payments/batch",
    postJson({
      payments: [
        paymentRequest("OK-1"),
        paymentRequest(probeId, { merchant_id: PROBE_MERCHANT_ID }),
        paymentRequest("OK-2", { merchant_id: PROBE_MERCHANT_ID }),
      ],
    }),
  );
  assert.equal(batch.status, 400);
  assert.deepEqual((await batch.json()).errors.map((e: { path: string }) => e.path), [
    "payments.1.payment_id",
    "payments.1.merchant_id",
    "payments.2.merchant_id",
  ]);
  // A wrong token is a client like any other.
  const forged = await app.request(
    "/payments/single",
    postJson(paymentRequest(probeId), { [PROBE_HEADER]: "guessed" }),
  );
  assert.equal(forged.status, 400);
  await forged.body?.cancel();
  assert.equal(publisher.calls, 0);
  // An id that merely contains the marks is an ordinary id.
  const near = await app.request("/payments", postJson(paymentRequest("my-pipeline-probe:1")));
  assert.equal(near.status, 202);
  await near.body?.cancel();
});

Deno.test("the probe's own requests are accepted with its marks and left out of every metric and /stats", async () => {
  const { app, publisher, metrics, statuses } = testApp();
  statuses.behaviour = "decided";
  const probe = { [PROBE_HEADER]: TEST_PROBE_TOKEN };
  const posted = await app.request(
    "/payments",
    postJson(paymentRequest(probeId, { merchant_id: PROBE_MERCHANT_ID }), probe),
  );
  assert.equal(posted.status, 202);
  const read = await app.request(posted.headers.get("location")!, { headers: probe });
  assert.equal(read.status, 200);
  await read.body?.cancel();
  assert.deepEqual(publisher.published.map((r) => r.key), [probeId]);

  const text = await metrics.registry.metrics();
  const count = (labels: Record<string, string>) =>
    sampleValue(text, "http_requests_total", labels);
  assert.equal(count({ method: "POST", handler: "/payments", status: "202" }), 0);
  assert.equal(count({ method: "GET", handler: "/payments/:payment_id", status: "200" }), 0);
  assert.equal(
    sampleValue(text, "payments_produced_total", { status: "success", batch_size_range: "single" }),
    0,
  );
  const stats = await (await app.request("/stats")).json();
  assert.equal(stats.total_requests, 0);
  assert.equal(stats.successful_payments, 0);

  // The same requests from a client are counted.
  const client = await app.request("/payments", postJson(paymentRequest("C-1")));
  assert.equal(client.status, 202);
  const clientRead = await app.request("/payments/C-1");
  await Promise.all([client.body?.cancel(), clientRead.body?.cancel()]);
  const after = await metrics.registry.metrics();
  assert.equal(
    sampleValue(after, "http_requests_total", {
      method: "POST",
      handler: "/payments",
      status: "202",
    }),
    1,
  );
  assert.equal(
    sampleValue(after, "http_requests_total", {
      method: "GET",
      handler: "/payments/:payment_id",
      status: "200",
    }),
    1,
  );
});
