import assert from "node:assert/strict";
import { readAnswers } from "@payments/testing/answers";
import { assertExactlyOnce, judgeAnswers } from "@payments/testing/exactly_once";
import { produceWithKcat } from "@payments/testing/kcat";
import { paymentEvent } from "@payments/testing/payments";
import { produce } from "@payments/testing/produce";
import { testKafka } from "@payments/testing/test_kafka";
import { runService } from "./testing.ts";

Deno.test("poison records from kcat each land once on the DLQ with headers and never block their partition", async () => {
  await using t = await testKafka("poison", 1);
  const before = paymentEvent();
  const after = paymentEvent();
  const bootstrap = t.brokers.join(",");
  const toPartition0 = { partition: 0 };
  await produce(t, [before], toPartition0);
  await produceWithKcat(bootstrap, t.topics.requests, [{ key: "K-BAD", value: "{not json" }], {
    ...toPartition0,
    headers: { correlation_id: "poison-1" },
  });
  await produceWithKcat(
    bootstrap,
    t.topics.requests,
    [{ key: "K-WRONG", value: '{"payment_id":"X","amount":-5}' }],
    toPartition0,
  );
  await produceWithKcat(
    bootstrap,
    t.topics.requests,
    [{ key: "K-NULL", value: null }],
    toPartition0,
  );
  await produce(t, [after], toPartition0);
  await using _service = await runService(t);
  const answers = await readAnswers(t, 5);
  assertExactlyOnce(judgeAnswers(answers, 5, t.topics.requests));
  const dead = answers.filter((a) => a.topic === t.topics.dlq);
  assert.deepEqual(dead.map((d) => [d.key, d.headers.dlq_reason, d.headers.original_offset]), [
    ["K-BAD", "invalid_json", "1"],
    ["K-WRONG", "schema_invalid", "2"],
    ["K-NULL", "null_value", "3"],
  ]);
  assert.equal(new TextDecoder().decode(dead[0]!.value!), "{not json");
  assert.equal(dead[0]!.headers.correlation_id, "poison-1");
  assert.equal(dead[2]!.value, null);
  for (const d of dead) {
    assert.equal(d.headers.attempts, "1");
    assert.equal(d.headers.original_partition, "0");
    assert.match(d.headers.original_timestamp!, /^\d{13}$/);
    assert.ok(!isNaN(Date.parse(d.headers.failed_at!)));
    assert.ok(d.headers.dlq_error!.length > 0);
  }
  assert.match(dead[1]!.headers.dlq_error!, /amount/);
  const results = answers.filter((a) => a.result).map((a) => a.result!.payment_id);
  assert.deepEqual(results, [before.payment_id, after.payment_id]);
});
