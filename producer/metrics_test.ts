import assert from "node:assert/strict";
import { createProducerMetrics, createProducerRegistry, recordPayments } from "./metrics.ts";
import { checkMetrics } from "@payments/testing/promtool";
import { paymentRequest } from "@payments/testing/payments";
import { postJson, testApp } from "./testing.ts";

Deno.test("the producer's exposition, default metrics included, passes promtool check metrics", async () => {
  const metrics = createProducerMetrics(createProducerRegistry(), "payment_requests");
  recordPayments(metrics, "success", 3);
  const { code, output } = await checkMetrics(await metrics.registry.metrics());
  assert.equal(code, 0, output);
});

Deno.test("known label combinations start at 0", async () => {
  const metrics = createProducerMetrics(createProducerRegistry({ defaults: false }), "t");
  const text = await metrics.registry.metrics();
  for (const status of ["success", "failed"]) {
    for (const range of ["single", "small", "medium", "large"]) {
      assert.match(
        text,
        new RegExp(
          `payments_produced_total\\{status="${status}",batch_size_range="${range}"[^}]*\\} 0`,
        ),
      );
    }
    assert.match(
      text,
      new RegExp(`kafka_produce_duration_seconds_count\\{[^}]*status="${status}"`),
    );
  }
  assert.match(
    text,
    /http_requests_total\{method="POST",handler="\/payments\/batch",status="503"[^}]*\} 0/,
  );
});

Deno.test("payment counters move by exactly the number of payments, by batch size range", async () => {
  const { app, metrics, publisher } = testApp();
  const value = async (status: string, range: string) =>
    (await metrics.paymentsProduced.get()).values.find((v) =>
      v.labels.status === status && v.labels.batch_size_range === range
    )?.value;
  const batch = Array.from({ length: 37 }, (_, i) => paymentRequest(`M-${i}`));
  assert.equal((await app.request("/payments/batch", postJson({ payments: batch }))).status, 202);
  assert.equal((await app.request("/payments", postJson(paymentRequest("M-x")))).status, 202);
  publisher.behaviour = "unavailable";
  await app.request("/payments/batch", postJson({ payments: batch.slice(0, 5) }));
  assert.equal(await value("success", "medium"), 37);
  assert.equal(await value("success", "single"), 1);
  assert.equal(await value("failed", "small"), 5);
  const sizes = await metrics.batchSize.get();
  assert.equal(sizes.values.find((v) => v.metricName === "payment_batch_size_sum")?.value, 38);
});

Deno.test("http metrics label the route pattern, never the raw path", async () => {
  const { app, metrics } = testApp();
  await app.request("/payments/batch?x=1", { method: "GET" });
  await app.request("/some/random/path/123");
  await app.request("/health");
  const handlers = new Set((await metrics.httpRequests.get()).values.map((v) => v.labels.handler));
  assert.ok(handlers.has("/payments/batch"));
  assert.ok(handlers.has("/health"));
  assert.ok(handlers.has("unmatched"));
  assert.ok(![...handlers].some((h) => String(h).includes("random")));
});

Deno.test("kafkajs instrumentation events feed the client metrics and a bad payload never throws", async () => {
  const { instrumentKafkaClient } = await import("./metrics.ts");
  const metrics = createProducerMetrics(createProducerRegistry({ defaults: false }), "t");
  const listeners = new Map<string, (event: { payload: Record<string, unknown> }) => void>();
  const client = {
    events: { REQUEST: "r", REQUEST_QUEUE_SIZE: "q", REQUEST_TIMEOUT: "t" },
    on(event: string, listener: (event: { payload: Record<string, unknown> }) => void) {
      listeners.set(event, listener);
      return () => listeners.delete(event);
    },
  };
  const stop = instrumentKafkaClient(client, metrics);
  listeners.get("r")!({ payload: { apiName: "Produce", broker: "b:1", duration: 12 } });
  assert.match(
    await metrics.registry.metrics(),
    /kafka_client_request_queue_size\{[^}]*broker="b:1"[^}]*\} 0/,
    "a broker's queue starts at 0 before kafkajs reports any wait",
  );
  listeners.get("q")!({ payload: { broker: "b:1", queueSize: 3 } });
  listeners.get("r")!({ payload: { apiName: "Produce", broker: "b:1", duration: 12 } });
  listeners.get("t")!({ payload: { apiName: "Produce", broker: "b:1" } });
  listeners.get("r")!({ payload: null as unknown as Record<string, unknown> });
  const text = await metrics.registry.metrics();
  assert.match(text, /kafka_client_request_duration_seconds_count\{[^}]*api="Produce"[^}]*\} 2/);
  assert.match(text, /kafka_client_request_queue_size\{[^}]*broker="b:1"[^}]*\} 3/);
  assert.match(text, /kafka_client_request_timeouts_total\{[^}]*\} 1/);
  stop();
  assert.equal(listeners.size, 0);
});

Deno.test("GET /metrics with an OpenMetrics Accept header shows the request's correlation id as exemplar", async () => {
  // Its trace id too under OpenTelemetry, from the server span: producer/trace_headers_test.ts.
  const { app } = testApp();
  const sent = await app.request(
    "/payments",
    postJson(paymentRequest("P-EX-1"), { "x-correlation-id": "corr-exemplar-1" }),
  );
  assert.equal(sent.status, 202);
  const openMetrics = await app.request("/metrics", {
    headers: { accept: "application/openmetrics-text;version=1.0.0,text/plain;q=0.5" },
  });
  assert.match(openMetrics.headers.get("content-type")!, /^application\/openmetrics-text/);
  const line = (await openMetrics.text()).split("\n").find((l) =>
    l.startsWith("http_request_duration_seconds_bucket{") && l.includes('handler="/payments"') &&
    l.includes(" # {")
  );
  assert.ok(line, "a /payments bucket carries an exemplar");
  assert.match(line, /# \{correlation_id="corr-exemplar-1"\}/);

  const text = await app.request("/metrics");
  assert.match(text.headers.get("content-type")!, /^text\/plain; version=0\.0\.4/);
  const body = await text.text();
  assert.doesNotMatch(body, / # \{/);
  assert.match(body, /^http_requests_total\{method="POST",handler="\/payments",status="202"/m);
});

Deno.test("the OpenMetrics exposition names the same series as the text format, default metrics included", async () => {
  const registry = createProducerRegistry();
  const metrics = createProducerMetrics(registry, "payment_requests");
  recordPayments(metrics, "success", 3);
  const names = (text: string) =>
    new Set(
      text.split("\n").filter((line) => line && !line.startsWith("#"))
        .map((line) => line.split(/[{ ]/, 1)[0]),
    );
  const openMetrics = await registry.openMetrics();
  assert.ok(names(openMetrics).has("payments_produced_total"));
  assert.deepEqual(names(openMetrics), names(await registry.metrics()));
  // prom-client's own OpenMetrics rendering would have renamed the counters by now.
  assert.deepEqual(names(await registry.metrics()), names(openMetrics));
});
