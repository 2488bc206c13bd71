/**
 * A consumer pointed at topics that do not exist says which, by name and variable, in
 * its "Cannot start consuming" line, stays up and not ready, and starts by itself
 * once they exist.
 */
import assert from "node:assert/strict";
import { serviceEnv, startService } from "@payments/testing/services";
import { testKafka } from "@payments/testing/test_kafka";
import { eventually } from "@payments/testing/wait";

Deno.test("missing DLQ and results topics are named with their variables while the consumer retries, and it starts once they exist", async () => {
  await using t = await testKafka("missing-topics", 1);
  const id = crypto.randomUUID().slice(0, 8);
  const topics = { ...t.topics, dlq: `no_such_dlq-${id}`, results: `no_such_results-${id}` };
  await using consumer = await startService("consumer", {
    env: serviceEnv(t.brokers.join(","), topics, {
      CONSUMER_GROUP_ID: t.groupId,
      CONSUMER_SESSION_TIMEOUT_MS: "6000",
      CONSUMER_STATE_DIR: t.stateDir,
      LAG_MONITOR_ENABLED: "false",
    }),
    waitReady: false,
  });
  const cannotStart = () => consumer.lines().find((l) => l.includes("Cannot start consuming"));
  await eventually(() => cannotStart() !== undefined, 30_000, "a Cannot start consuming line");
  const line = JSON.parse(cannotStart()!) as { message: string; level: string };
  assert.equal(line.level, "error");
  assert.match(
    line.message,
    new RegExp(`the topic ${topics.results} \\(TOPIC_PAYMENT_RESULTS\\) does not exist`),
  );
  assert.match(
    line.message,
    new RegExp(`the topic ${topics.dlq} \\(TOPIC_PAYMENT_DLQ\\) does not exist`),
  );
  assert.doesNotMatch(line.message, /does not host this topic-partition/);
  const ready = await fetch(`${consumer.url}/ready`);
  await ready.body?.cancel();
  assert.equal(ready.status, 503);

  await t.admin.createTopics({
    waitForLeaders: true,
    topics: [{ topic: topics.dlq, numPartitions: 1 }, { topic: topics.results, numPartitions: 1 }],
  });
  await consumer.waitReady(60_000);
  await t.admin.deleteTopics({ topics: [topics.dlq, topics.results] }).catch(() => {});
});
