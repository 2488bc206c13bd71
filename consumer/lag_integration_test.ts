import assert from "node:assert/strict";
import { Registry } from "prom-client";
import { getLogger } from "@logtape/logtape";
import { createLagMonitor } from "@payments/lag/monitor";
import { readAnswers } from "@payments/testing/answers";
import { paymentEvent } from "@payments/testing/payments";
import { produce } from "@payments/testing/produce";
import { testKafka } from "@payments/testing/test_kafka";
import { runService } from "./testing.ts";

Deno.test("with the consumer stopped lag rises in messages and seconds, then falls to 0 once it runs", async () => {
  await using t = await testKafka("lag", 2);
  const registry = new Registry();
  const monitor = createLagMonitor({
    admin: t.admin,
    groupId: t.groupId,
    topics: [t.topics.requests],
    registry,
    intervalMs: 60_000,
    logger: getLogger(["test", "lag"]),
  });
  const total = async () => {
    const lags = await monitor.poll();
    return {
      messages: lags.reduce((sum, l) => sum + l.lagMessages, 0),
      seconds: Math.max(...lags.map((l) => l.lagSeconds)),
      committed: lags.map((l) => l.committed),
    };
  };
  await produce(t, [paymentEvent(), paymentEvent()]);
  const first = await total();
  assert.equal(first.messages, 2);
  assert.deepEqual(first.committed, [null, null], "no committed offset yet, never -1");
  await new Promise((resolve) => setTimeout(resolve, 1200));
  await produce(t, [paymentEvent(), paymentEvent()]);
  const second = await total();
  assert.equal(second.messages, 4);
  assert.ok(second.seconds > first.seconds && second.seconds >= 1, JSON.stringify([first, second]));
  {
    await using _service = await runService(t);
    await readAnswers(t, 4, 20_000, 200);
  }
  const after = await total();
  assert.deepEqual([after.messages, after.seconds], [0, 0]);
  assert.match(
    await registry.metrics(),
    /consumer_lag_seconds\{group="[^"]+",topic="[^"]+",partition="0"\} 0/,
  );
  await monitor.stop();
});
