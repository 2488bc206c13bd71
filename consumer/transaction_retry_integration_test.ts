/**
 * The transactional producers' retry policy against a real broker: a stream of
 * records on one partition makes the worker start transactions right after the
 * previous commit, which Kafka answers CONCURRENT_TRANSACTIONS until its commit
 * markers are written. Those retries are counted, not logged above debug.
 */
import assert from "node:assert/strict";
import { serviceEnv, startService } from "@payments/testing/services";
import { eventually, payment, produce, testKafka, topicSize } from "./testing.ts";

const PAYMENTS = 150;

Deno.test("CONCURRENT_TRANSACTIONS retries are counted in kafka_transaction_retries_total and never logged above debug", async () => {
  await using t = await testKafka("txretry", 1);
  await using consumer = await startService("consumer", {
    env: serviceEnv(t.brokers.join(","), t.topics, {
      CONSUMER_GROUP_ID: t.groupId,
      CONSUMER_SESSION_TIMEOUT_MS: "6000",
      LAG_MONITOR_ENABLED: "false",
      LOG_LEVEL: "info",
    }),
  });
  // One payment per send, so the worker commits many small transactions back to back.
  for (let i = 0; i < PAYMENTS; i++) await produce(t, [payment()]);
  // Each committed transaction also writes a commit marker: count results by offsets
  // only once the consumer's group offset says every input was answered.
  await eventually(
    async () => {
      const [offsets] = await t.admin.fetchOffsets({
        groupId: t.groupId,
        topics: [t.topics.requests],
      });
      return Number(offsets?.partitions[0]?.offset ?? -1) >= PAYMENTS;
    },
    60_000,
    "every payment answered",
  );
  assert.ok(await topicSize(t, t.topics.results) >= PAYMENTS);
  const metrics = await (await fetch(`${consumer.url}/metrics`)).text();
  const retried = /^kafka_transaction_retries_total\{error="CONCURRENT_TRANSACTIONS"[^}]*\} (\d+)/m
    .exec(metrics);
  assert.ok(retried, "the counter is exported with its error label");
  assert.ok(
    Number(retried[1]) > 0,
    "back-to-back transactions met CONCURRENT_TRANSACTIONS at least once",
  );
  const noisy = consumer.lines().filter((line) =>
    /concurrent operation on the same transaction/.test(line)
  );
  assert.deepEqual(noisy, [], "no CONCURRENT_TRANSACTIONS line at info level or above");
});
