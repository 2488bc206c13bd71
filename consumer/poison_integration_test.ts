import assert from "node:assert/strict";
import {
  assertExactlyOnce,
  payment,
  produce,
  readAnswers,
  runService,
  testKafka,
} from "./testing.ts";

async function kcat(brokers: string[], topic: string, args: string[], input: string) {
  const child = new Deno.Command("kcat", {
    args: ["-b", brokers.join(","), "-P", "-t", topic, "-p", "0", ...args],
    stdin: "piped",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(input));
  await writer.close();
  const { code, stderr } = await child.output();
  assert.equal(code, 0, new TextDecoder().decode(stderr));
}

Deno.test("poison records from kcat each land once on the DLQ with headers and never block their partition", async () => {
  await using t = await testKafka("poison", 1);
  const before = payment();
  const after = payment();
  await produce(t, [before], 0);
  await kcat(
    t.brokers,
    t.topics.requests,
    ["-K", "|", "-H", "correlation_id=poison-1"],
    "K-BAD|{not json\n",
  );
  await kcat(t.brokers, t.topics.requests, ["-K", "|"], 'K-WRONG|{"payment_id":"X","amount":-5}\n');
  // -Z turns the empty value into a NULL value.
  await kcat(t.brokers, t.topics.requests, ["-K", "|", "-Z"], "K-NULL|\n");
  await produce(t, [after], 0);
  await using _service = await runService(t);
  const answers = await readAnswers(t, 5);
  assertExactlyOnce(answers, 5, t.topics.requests);
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
