import assert from "node:assert/strict";
import { readAnswers } from "@payments/testing/answers";
import { assertExactlyOnce, judgeAnswers } from "@payments/testing/exactly_once";
import { paymentEvent } from "@payments/testing/payments";
import { produce } from "@payments/testing/produce";
import { type ServiceProcess, startConsumer } from "@payments/testing/services";
import { type TestKafka, testKafka } from "@payments/testing/test_kafka";
import { recordsHeld } from "@payments/testing/topics";
import { eventually } from "@payments/testing/wait";

const SLOW = { CONSUMER_SIMULATED_LATENCY_MS: "0-2", CONSUMER_MAX_RECORDS_PER_TRANSACTION: "50" };

/** A consumer of `t` on its shared state directory (a restart on the same disk). */
function sameDiskConsumer(t: TestKafka, env: Record<string, string> = {}): Promise<ServiceProcess> {
  return startConsumer(t, {
    waitReady: false,
    env: { CONSUMER_STATE_DIR: t.stateDir, LOG_LEVEL: "warning", ...env },
  });
}

async function kill(consumer: ServiceProcess): Promise<number> {
  consumer.kill("SIGKILL");
  return await consumer.exited;
}

Deno.test("a consumer SIGKILLed mid-stream and restarted answers every record exactly once", async () => {
  await using t = await testKafka("sigkill", 3);
  // A few repeated payment ids: none may be approved twice.
  const payments = Array.from({ length: 3000 }, () => paymentEvent());
  const inputs = [...payments, ...payments.slice(0, 30)];
  await produce(t, inputs);
  const first = await sameDiskConsumer(t, SLOW);
  try {
    await eventually(
      async () => await recordsHeld(t.admin, t.topics.results) > 300,
      40_000,
      "results",
    );
  } finally {
    await kill(first);
  }
  const answeredBefore = await recordsHeld(t.admin, t.topics.results);
  assert.ok(answeredBefore < inputs.length, "killed while records were in flight");
  const second = await sameDiskConsumer(t);
  try {
    const answers = await readAnswers(t, inputs.length, 45_000);
    assertExactlyOnce(judgeAnswers(answers, inputs.length, t.topics.requests));
    const duplicates = answers.filter((a) => a.result?.outcome === "DUPLICATE");
    assert.equal(duplicates.length, 30);
  } finally {
    assert.equal(await second.stop(30_000), 0, "clean exit on SIGTERM");
  }
});

Deno.test("two instances, a rebalance and a SIGKILL still answer every record exactly once", async () => {
  await using t = await testKafka("rebalance", 4);
  const inputs = Array.from({ length: 2000 }, () => paymentEvent());
  await produce(t, inputs);
  const a = await sameDiskConsumer(t, SLOW);
  let b: ServiceProcess | undefined;
  try {
    await eventually(
      async () => await recordsHeld(t.admin, t.topics.results) > 100,
      40_000,
      "results",
    );
    b = await sameDiskConsumer(t, SLOW); // joins: rebalance while A is busy
    await eventually(
      async () => await recordsHeld(t.admin, t.topics.results) > 700,
      40_000,
      "more",
    );
  } finally {
    await kill(a); // B takes A's partitions after A's session times out
  }
  try {
    const answers = await readAnswers(t, inputs.length, 50_000);
    assertExactlyOnce(judgeAnswers(answers, inputs.length, t.topics.requests));
  } finally {
    assert.equal(await b!.stop(30_000), 0, "clean exit on SIGTERM");
  }
});
