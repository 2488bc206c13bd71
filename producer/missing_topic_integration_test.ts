/**
 * A producer pointed at a requests topic that does not exist says so by name and
 * variable, on /ready and in its log line, stays up and not ready, and becomes ready
 * by itself once the topic exists (no restart).
 */
import assert from "node:assert/strict";
import { sharedBrokers } from "@payments/testing/brokers";
import { startService } from "@payments/testing/services";
import { createTopics, deleteTopics, uniqueTopics } from "@payments/testing/topics";

Deno.test("a missing requests topic is named with its variable on /ready and in the log, and the producer gets ready once it exists", async () => {
  const brokers = sharedBrokers();
  const topics = uniqueTopics("producer-missing-topic");
  const sentence = `the topic ${topics.requests} (TOPIC_PAYMENT_REQUESTS) does not exist`;
  try {
    await using producer = await startService("producer", {
      brokers,
      topics,
      env: { PRODUCER_READY_INTERVAL_MS: "500", LAG_MONITOR_ENABLED: "false" },
      waitReady: false,
    });
    let status = 0;
    let body = "";
    for (const deadline = Date.now() + 60_000; !body.includes(sentence);) {
      assert.ok(Date.now() < deadline, `/ready never named the topic: ${status} ${body}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
      const response = await fetch(`${producer.url}/ready`);
      [status, body] = [response.status, await response.text()];
    }
    assert.equal(status, 503);
    assert.doesNotMatch(body, /does not host this topic-partition/);

    const notReady = producer.lines().find((line) => line.includes("Kafka not ready"));
    assert.ok(notReady, `a Kafka not ready line:\n${producer.tail()}`);
    const line = JSON.parse(notReady) as { message: string; level: string };
    assert.equal(line.level, "warning");
    assert.ok(line.message.includes(sentence), line.message);

    await createTopics(brokers, topics, 1);
    await producer.waitReady(60_000);
    const ready = await fetch(`${producer.url}/ready`);
    assert.equal(ready.status, 200);
    assert.match(await ready.text(), new RegExp(`topic ${topics.requests} available`));
  } finally {
    await deleteTopics(brokers, Object.values(topics));
  }
});
