/**
 * A retriable crash resumes by itself: the broker goes away for longer than kafkajs'
 * retries, kafkajs crashes its consumer with `restart: true`, the worker says
 * `restarting` (live, not ready) and, once the broker is back, consumes again without
 * anyone restarting the process.
 */
import assert from "node:assert/strict";
import type { TopicNames } from "@payments/shared/topics";
import { startThrowawayBroker } from "@payments/testing/brokers";
import { testClient } from "@payments/testing/kafka";
import { readCommitted } from "@payments/testing/kcat";
import { sampleValue } from "@payments/testing/metrics_text";
import { paymentEvent } from "@payments/testing/payments";
import { produce } from "@payments/testing/produce";
import { startService } from "@payments/testing/services";
import { createPipelineTopics } from "@payments/testing/topics";
import { eventually } from "@payments/testing/wait";

async function producePayments(brokers: string[], topics: TopicNames, count: number) {
  const payments = Array.from({ length: count }, () => paymentEvent());
  await produce({ kafka: testClient(brokers, { clientId: "restart-test" }), topics }, payments);
  return payments;
}

/** Polls `check` every 200 ms; fails with `what` and the consumer's last lines. */
async function until(what: string, check: () => Promise<boolean>, ms: number, tail: () => string) {
  await eventually(check, ms, what, { intervalMs: 200, context: tail });
}

Deno.test("after a retriable crash (the broker gone past kafkajs' retries) the consumer restarts and answers by itself", async () => {
  await using broker = await startThrowawayBroker({ topics: [] });
  const brokers = [broker.bootstrap];
  const topics = await createPipelineTopics(brokers, "restart", { partitions: 2 });
  const before = await producePayments(brokers, topics, 20);
  await using consumer = await startService("consumer", {
    brokers,
    topics,
    groupId: `${topics.requests}.group`,
    env: {
      CONSUMER_SESSION_TIMEOUT_MS: "6000",
      LAG_MONITOR_ENABLED: "false",
      KAFKA_CONNECTION_TIMEOUT_MS: "1000",
    },
  });
  const results = async () => (await readCommitted(broker.bootstrap, topics.results)).length;
  await until(
    "the first results",
    async () => await results() === before.length,
    60_000,
    () => consumer.tail(),
  );

  const seen = new Set<string>();
  const state = async () => {
    try {
      const text = await (await fetch(`${consumer.url}/metrics`)).text();
      for (const s of ["assigned", "waiting", "restarting", "crashed"]) {
        if (sampleValue(text, "consumer_worker_state", { state: s }) === 1) seen.add(s);
      }
      return text;
    } catch {
      return "";
    }
  };
  await broker.halt();
  await until(
    "a retriable crash",
    async () => {
      await state();
      return seen.has("restarting");
    },
    90_000,
    () => consumer.tail(),
  );
  const ready = await fetch(`${consumer.url}/ready`);
  assert.equal(ready.status, 503, "not ready while kafkajs restarts");
  assert.equal((await ready.json()).state, "restarting");
  const health = await fetch(`${consumer.url}/health`);
  assert.equal(health.status, 200, "live: kafkajs restarts by itself, no process restart needed");
  await health.body?.cancel();

  await broker.start();
  await consumer.waitReady(90_000);
  const after = await producePayments(brokers, topics, 20);
  await until(
    "results of the payments sent after the restart",
    async () => await results() === before.length + after.length,
    90_000,
    () => consumer.tail(),
  );
  const answered = (await readCommitted(broker.bootstrap, topics.results))
    .map((r) => JSON.parse(r.payload!).payment_id as string).sort();
  assert.deepEqual(answered, [...before, ...after].map((p) => p.payment_id).sort());
  const text = await state();
  assert.equal(sampleValue(text, "consumer_worker_state", { state: "assigned" }), 1);
  assert.ok(!seen.has("crashed"), "never crashed for good");
  assert.ok(sampleValue(text, "consumer_errors_total", { error_type: "crash" })! >= 1);
  assert.ok(
    consumer.lines().some((l) => l.includes("crashed on a retriable error; kafkajs restarts it")),
    consumer.tail(),
  );
  assert.ok(!consumer.lines().some((l) => l.includes("stopped for good")), consumer.tail());
});
