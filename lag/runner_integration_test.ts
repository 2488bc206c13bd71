import assert from "node:assert/strict";
import { Kafka, logLevel, Partitioners } from "kafkajs";
import { getLogger } from "@logtape/logtape";
import { Registry } from "prom-client";
import { freePort, sharedBrokers } from "@payments/testing/brokers";
import { muteKafkajsTimeoutWarning } from "@payments/shared/kafkajs_quiet";
import { runLagMonitor } from "./runner.ts";

muteKafkajsTimeoutWarning();

function lagOf(text: string, metric: string, group: string): number {
  return text.split("\n")
    .filter((line) => line.startsWith(`${metric}{`) && line.includes(`group="${group}"`))
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(" ") + 1)), 0);
}

Deno.test("the lag runner reports a group's lag when no consumer of it has ever run", async () => {
  const kafka = new Kafka({ brokers: sharedBrokers(), logLevel: logLevel.NOTHING });
  const topic = `lag-runner-${crypto.randomUUID()}`;
  const group = `lag-runner-group-${crypto.randomUUID()}`;
  const admin = kafka.admin();
  await admin.connect();
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  const registry = new Registry();
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions: 2 }], waitForLeaders: true });
    await producer.connect();
    await producer.send({
      topic,
      messages: Array.from({ length: 7 }, (_, i) => ({ key: `k${i}`, value: "v" })),
    });
    await using _monitor = runLagMonitor({
      admin: kafka.admin(),
      groupId: group,
      topics: [topic],
      registry,
      intervalMs: 200,
      logger: getLogger(["test"]),
    });
    let messages = 0;
    for (let i = 0; i < 50 && messages !== 7; i++) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      messages = lagOf(await registry.metrics(), "consumer_lag_messages", group);
    }
    assert.equal(messages, 7);
    assert.ok(lagOf(await registry.metrics(), "consumer_lag_seconds", group) >= 0);
  } finally {
    await producer.disconnect();
    await admin.deleteTopics({ topics: [topic] }).catch(() => {});
    await admin.disconnect();
  }
});

Deno.test("the lag runner keeps retrying while Kafka is unreachable and stops cleanly", async () => {
  const port = freePort();
  const kafka = new Kafka({
    brokers: [`127.0.0.1:${port}`],
    logLevel: logLevel.NOTHING,
    retry: { retries: 0 },
    connectionTimeout: 200,
  });
  const warnings: string[] = [];
  const logger = {
    ...getLogger(["test"]),
    info: () => {},
    warn: (message: string) => warnings.push(message),
  } as unknown as ReturnType<typeof getLogger>;
  const monitor = runLagMonitor({
    admin: kafka.admin(),
    groupId: "g",
    topics: ["t"],
    registry: new Registry(),
    intervalMs: 100,
    logger,
    maxBackoffMs: 100,
  });
  await new Promise((resolve) => setTimeout(resolve, 1500));
  await monitor[Symbol.asyncDispose]();
  assert.ok(warnings.length >= 2, `expected retries, got ${warnings.length}`);
  assert.match(warnings[0]!, /cannot reach Kafka/);
});
