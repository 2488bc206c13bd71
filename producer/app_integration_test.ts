import assert from "node:assert/strict";
import { checkMetrics } from "@payments/testing/promtool";
import type { LogRecord } from "@logtape/logtape";
import { sharedBrokers } from "@payments/testing/brokers";
import { configureLogging } from "@payments/shared/logging";
import { PaymentEventSchema } from "@payments/shared/payment";
import { readRecordHeaders } from "@payments/shared/record_headers";
import { testClient } from "@payments/testing/kafka";
import { readCommitted } from "@payments/testing/kcat";
import { paymentRequest } from "@payments/testing/payments";
import { createTopic, recordsHeld } from "@payments/testing/topics";
import { postJson, realApp } from "./testing.ts";

const bootstrap = () => sharedBrokers().join(",");

Deno.test("POST /payments/batch of 100 answers 202 and kcat reads exactly those records", async () => {
  const kafka = testClient(bootstrap(), { clientId: "producer-test", quickFailure: true });
  const topic = await createTopic(bootstrap(), "producer-batch");
  await using producer = await realApp(kafka, topic);
  const payments = Array.from(
    { length: 100 },
    (_, i) => paymentRequest(`B100-${i}`, { amount: i + 1 }),
  );
  const response = await producer.app.request(
    "/payments/batch",
    postJson({ payments }, { "x-correlation-id": "batch-100" }),
  );
  assert.equal(response.status, 202);
  const body = await response.json();
  assert.equal(body.successful, 100);

  const records = await readCommitted(bootstrap(), topic);
  assert.equal(records.length, 100);
  assert.deepEqual(
    records.map((r) => r.key).sort(),
    payments.map((p) => p.payment_id).sort(),
  );
  const positions = new Map(
    body.results.map((r: { payment_id: string; partition: number; offset: number }) => [
      r.payment_id,
      `${r.partition}/${r.offset}`,
    ]),
  );
  for (const record of records) {
    const event = PaymentEventSchema.parse(JSON.parse(record.payload!));
    assert.equal(event.payment_id, record.key);
    assert.equal(event.correlation_id, "batch-100");
    assert.equal(positions.get(record.key), `${record.partition}/${record.offset}`);
    const headers = readRecordHeaders(record.headers);
    assert.equal(headers.correlationId, "batch-100");
    assert.equal(headers.source, "payment-producer");
    assert.equal(headers.contentType, "application/json");
  }
});

Deno.test("rejected requests write nothing to Kafka", async () => {
  const kafka = testClient(bootstrap(), { clientId: "producer-test", quickFailure: true });
  const topic = await createTopic(bootstrap(), "producer-rejects");
  await using producer = await realApp(kafka, topic, { maxBodyBytes: 4096, apiKeys: ["k"] });
  const auth = { authorization: "Bearer k" };
  assert.equal(
    (await producer.app.request("/payments", postJson(paymentRequest("OK-1"), auth))).status,
    202,
  );
  const before = await recordsHeld(sharedBrokers(), topic);
  const rejected: [RequestInit, number][] = [
    [postJson("{bad", auth), 400],
    [
      postJson({ payments: [paymentRequest("R-1"), paymentRequest("R-2", { amount: -5 })] }, auth),
      400,
    ],
    [postJson({ payments: [paymentRequest("R-1"), paymentRequest("R-1")] }, auth), 400],
    [postJson({ payments: [paymentRequest("R-1")] }), 401],
    [postJson({ payments: [paymentRequest("R-1", { description: "x".repeat(5000) })] }, auth), 413],
    [
      {
        method: "POST",
        headers: auth,
        body: JSON.stringify({ payments: [paymentRequest("R-1")] }),
      },
      415,
    ],
  ];
  for (const [init, status] of rejected) {
    assert.equal((await producer.app.request("/payments/batch", init)).status, status);
  }
  assert.equal(await recordsHeld(sharedBrokers(), topic), before);
});

Deno.test("metrics move by exactly the payments sent and the exposition passes promtool", async () => {
  const kafka = testClient(bootstrap(), { clientId: "producer-test", quickFailure: true });
  const topic = await createTopic(bootstrap(), "producer-metrics");
  await using producer = await realApp(kafka, topic);
  const sent = [paymentRequest("M-1"), paymentRequest("M-2"), paymentRequest("M-3")];
  assert.equal(
    (await producer.app.request("/payments/batch", postJson({ payments: sent }))).status,
    202,
  );
  assert.equal(
    (await producer.app.request("/payments", postJson(paymentRequest("M-4")))).status,
    202,
  );
  const values = (await producer.metrics.paymentsProduced.get()).values;
  const total = values.filter((v) => v.labels.status === "success").reduce(
    (s, v) => s + v.value,
    0,
  );
  assert.equal(total, 4);
  const text = await (await producer.app.request("/metrics")).text();
  assert.match(text, /kafka_client_request_duration_seconds_count\{[^}]*api="Produce"/);
  assert.match(
    text,
    /kafka_produce_duration_seconds_count\{[^}]*status="success"[^}]*\} 2\n/,
  );
  const result = await checkMetrics(text);
  assert.equal(result.code, 0, result.output);
});

Deno.test("every log line of a request carries its correlation id and no API key is logged", async () => {
  const records: LogRecord[] = [];
  await using _logging = await configureLogging({ level: "debug", format: "json" }, {
    stdout: false,
    extraSink: (record) => records.push(record),
  });
  const kafka = testClient(bootstrap(), { clientId: "producer-test", quickFailure: true });
  const topic = await createTopic(bootstrap(), "producer-logs");
  const apiKey = "sk-very-secret-test-key";
  {
    await using producer = await realApp(kafka, topic, { apiKeys: [apiKey] });
    records.length = 0;
    const ok = await producer.app.request(
      "/payments/batch",
      postJson({ payments: [paymentRequest("L-1"), paymentRequest("L-2")] }, {
        "x-correlation-id": "log-corr-1",
        authorization: `Bearer ${apiKey}`,
      }),
    );
    assert.equal(ok.status, 202);
    const denied = await producer.app.request(
      "/payments",
      postJson(paymentRequest("L-3"), {
        "x-correlation-id": "log-corr-2",
        authorization: "Bearer nope",
      }),
    );
    assert.equal(denied.status, 401);
  }
  const http = records.filter((r) => r.category.join(".") === "payments.producer.http");
  const first = http.filter((r) => r.properties.correlation_id === "log-corr-1");
  assert.ok(first.length >= 3, "summary, per-payment and access lines");
  assert.ok(first.some((r) => r.level === "info" && r.properties.batch_id));
  assert.ok(http.some((r) => r.properties.correlation_id === "log-corr-2"));
  for (const record of http) assert.ok(record.properties.correlation_id, JSON.stringify(record));
  const all = JSON.stringify(records.map((r) => ({ m: r.message, p: r.properties })));
  assert.ok(!all.includes(apiKey));
});

Deno.test("the lab's curl from Task 3.1 gets 202 from a served producer", async () => {
  const kafka = testClient(bootstrap(), { clientId: "producer-test", quickFailure: true });
  const topic = await createTopic(bootstrap(), "producer-curl");
  await using producer = await realApp(kafka, topic);
  await using server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen: () => {} },
    producer.app.fetch,
  );
  const { code, stdout } = await new Deno.Command("curl", {
    args: [
      "-s",
      "-o",
      "-",
      "-w",
      "\n%{http_code}",
      "-X",
      "POST",
      `http://127.0.0.1:${server.addr.port}/payments/batch`,
      "-H",
      "Content-Type: application/json",
      "-d",
      `{
    "payments": [
      {
        "payment_id": "TEST-001",
        "amount": 99.99,
        "merchant_id": "MERCH-001", 
        "customer_id": "CUST-001"
      }
    ]
  }`,
    ],
    stdout: "piped",
  }).output();
  assert.equal(code, 0);
  const lines = new TextDecoder().decode(stdout).trim().split("\n");
  assert.equal(lines.at(-1), "202");
  // The lab's two decimals are taken as sent, and echoed as stored.
  const answer = JSON.parse(lines.slice(0, -1).join("\n"));
  assert.deepEqual([answer.results[0].amount, answer.results[0].currency], [99.99, "USD"]);
  const records = await readCommitted(bootstrap(), topic);
  assert.deepEqual(records.map((r) => r.key), ["TEST-001"]);
  assert.equal(JSON.parse(records[0]!.payload!).amount, 99.99);
});
