import assert from "node:assert/strict";
import {
  assertExactlyOnce,
  eventually,
  payment,
  produce,
  readAnswers,
  spawnConsumer,
  testKafka,
  topicSize,
} from "./testing.ts";

const SLOW = { CONSUMER_SIMULATED_LATENCY_MS: "0-2", CONSUMER_MAX_RECORDS_PER_TRANSACTION: "50" };

async function kill(child: Deno.ChildProcess, signal: Deno.Signal = "SIGKILL") {
  try {
    child.kill(signal);
  } catch {
    // already gone
  }
  return await child.status;
}

Deno.test("a consumer SIGKILLed mid-stream and restarted answers every record exactly once", async () => {
  await using t = await testKafka("sigkill", 3);
  // A few repeated payment ids: none may be approved twice.
  const payments = Array.from({ length: 3000 }, () => payment());
  const inputs = [...payments, ...payments.slice(0, 30)];
  await produce(t, inputs);
  const first = spawnConsumer(t, SLOW);
  try {
    await eventually(async () => await topicSize(t, t.topics.results) > 300, 40_000, "results");
  } finally {
    await kill(first);
  }
  const answeredBefore = await topicSize(t, t.topics.results);
  assert.ok(answeredBefore < inputs.length, "killed while records were in flight");
  const second = spawnConsumer(t);
  try {
    const answers = await readAnswers(t, inputs.length, 45_000);
    assertExactlyOnce(answers, inputs.length, t.topics.requests);
    const duplicates = answers.filter((a) => a.result?.outcome === "DUPLICATE");
    assert.equal(duplicates.length, 30);
  } finally {
    assert.equal((await kill(second, "SIGTERM")).code, 0, "clean exit on SIGTERM");
  }
});

Deno.test("two instances, a rebalance and a SIGKILL still answer every record exactly once", async () => {
  await using t = await testKafka("rebalance", 4);
  const inputs = Array.from({ length: 2000 }, () => payment());
  await produce(t, inputs);
  const a = spawnConsumer(t, SLOW);
  let b: Deno.ChildProcess | undefined;
  try {
    await eventually(async () => await topicSize(t, t.topics.results) > 100, 40_000, "results");
    b = spawnConsumer(t, SLOW); // joins: rebalance while A is busy
    await eventually(async () => await topicSize(t, t.topics.results) > 700, 40_000, "more");
  } finally {
    await kill(a); // B takes A's partitions after A's session times out
  }
  try {
    const answers = await readAnswers(t, inputs.length, 50_000);
    assertExactlyOnce(answers, inputs.length, t.topics.requests);
  } finally {
    assert.equal((await kill(b!, "SIGTERM")).code, 0, "clean exit on SIGTERM");
  }
});
