/**
 * The transactional producers' retry policy against a real broker: a backlog answered
 * one record per transaction makes the worker start each transaction right after the
 * previous commit, which Kafka answers CONCURRENT_TRANSACTIONS until that commit's
 * markers are written. Those retries are counted, not logged above debug.
 */
import assert from "node:assert/strict";
import { paymentEvent } from "@payments/testing/payments";
import { produce } from "@payments/testing/produce";
import { startConsumer } from "@payments/testing/services";
import { testKafka } from "@payments/testing/test_kafka";
import { eventually } from "@payments/testing/wait";

const PAYMENTS = 120;

Deno.test("CONCURRENT_TRANSACTIONS retries are counted in kafka_transaction_retries_total and never logged above debug", async () => {
  await using t = await testKafka("txretry", 1);
  await produce(t, Array.from({ length: PAYMENTS }, () => paymentEvent()));
  await using consumer = await startConsumer(t, {
    env: { CONSUMER_MAX_RECORDS_PER_TRANSACTION: "1", LOG_LEVEL: "info" },
  });
  await eventually(
    async () => {
      const [offsets] = await t.admin.fetchOffsets({
        groupId: t.groupId,
        topics: [t.topics.requests],
      });
      return Number(offsets?.partitions[0]?.offset ?? -1) >= PAYMENTS;
    },
    90_000,
    "every payment answered",
  );
  const metrics = await (await fetch(`${consumer.url}/metrics`)).text();
  const retried = /^kafka_transaction_retries_total\{error="CONCURRENT_TRANSACTIONS"[^}]*\} (\d+)/m
    .exec(metrics);
  assert.ok(retried, "the counter is exported with its error label");
  assert.ok(
    Number(retried[1]) > 0,
    "transactions started right after the previous commit met CONCURRENT_TRANSACTIONS",
  );
  const noisy = consumer.lines().filter((line) =>
    /concurrent operation on the same transaction/.test(line)
  );
  assert.deepEqual(noisy, [], "no CONCURRENT_TRANSACTIONS line at info level or above");
});
