import assert from "node:assert/strict";
import { startThrowawayBroker } from "@payments/testing/brokers";
import { testClient } from "@payments/testing/kafka";
import { readCommitted } from "@payments/testing/kcat";
import { paymentRequest } from "@payments/testing/payments";
import { createTopic } from "@payments/testing/topics";
import { postJson, realApp } from "./testing.ts";

Deno.test("with the broker down POST answers 503 in time and /ready is 503; after restart the same POST succeeds without restarting the producer", async () => {
  await using broker = await startThrowawayBroker({ topics: [] });
  const kafka = testClient(broker.bootstrap, { clientId: "producer-test", quickFailure: true });
  const topic = await createTopic(broker.bootstrap, "producer-outage");
  const sendTimeoutMs = 1500;
  await using producer = await realApp(kafka, topic, { sendTimeoutMs, readyIntervalMs: 300 });
  const request = () =>
    producer.app.request(
      "/payments/batch",
      postJson({ payments: [paymentRequest("O-1"), paymentRequest("O-2")] }),
    );
  assert.equal((await producer.app.request("/ready")).status, 200);

  await broker.halt();
  const started = performance.now();
  const down = await request();
  const elapsed = performance.now() - started;
  assert.equal(down.status, 503);
  assert.ok(down.headers.get("retry-after"));
  // The configured bound plus scheduling slack; this checks the bound, it is not a benchmark.
  assert.ok(elapsed < sendTimeoutMs + 1000, `503 after ${elapsed} ms`);
  const body = await down.json();
  assert.equal(body.results, undefined);
  await producer.publisher.check();
  assert.equal((await producer.app.request("/ready")).status, 503);

  await broker.start();
  await producer.publisher.whenReady(30_000);
  assert.equal((await producer.app.request("/ready")).status, 200);
  // As a client honouring Retry-After would: a freshly restarted broker may still be
  // loading its coordinators for the first send, so a few 503s are allowed, nothing else.
  let up = await request();
  for (let attempt = 1; up.status === 503 && attempt < 20; attempt++) {
    await up.body?.cancel();
    await new Promise((resolve) => setTimeout(resolve, 500));
    up = await request();
  }
  assert.equal(up.status, 202, await up.clone().text());
  const keys = (await readCommitted(broker.bootstrap, topic)).map((record) => record.key);
  assert.ok(keys.includes("O-1") && keys.includes("O-2"));
});
