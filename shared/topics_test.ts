import assert from "node:assert/strict";
import { loadDedupRetention, topicsEnv } from "./topics.ts";

Deno.test("the de-duplication retention is read as a duration and a bad one names the variable", () => {
  assert.equal(loadDedupRetention({}), 7 * 24 * 60 * 60 * 1000);
  assert.equal(loadDedupRetention({ CONSUMER_DEDUP_RETENTION: "30m" }), 1_800_000);
  assert.equal(loadDedupRetention({ CONSUMER_DEDUP_RETENTION: "24h" }), 86_400_000);
  assert.throws(
    () => loadDedupRetention({ CONSUMER_DEDUP_RETENTION: "a week" }),
    /CONSUMER_DEDUP_RETENTION: "a week" is not a duration/,
  );
});

Deno.test("every topic is named by its variable", () => {
  const names = {
    requests: "r",
    results: "s",
    dlq: "d",
    decisions: "c",
    byCustomer: "b",
    customerDecisions: "e",
  };
  assert.deepEqual(topicsEnv(names), {
    TOPIC_PAYMENT_REQUESTS: "r",
    TOPIC_PAYMENT_RESULTS: "s",
    TOPIC_PAYMENT_DLQ: "d",
    TOPIC_PAYMENT_DECISIONS: "c",
    TOPIC_PAYMENT_BY_CUSTOMER: "b",
    TOPIC_PAYMENT_CUSTOMER_DECISIONS: "e",
  });
});
