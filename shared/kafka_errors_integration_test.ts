import assert from "node:assert/strict";
import { Kafka, logLevel, Partitioners } from "kafkajs";
import { sharedBrokers } from "@payments/testing/brokers";
import { muteKafkajsTimeoutWarning } from "./kafkajs_quiet.ts";
import { isProducerFenced, isRetriableKafkaError } from "./kafka_errors.ts";

muteKafkajsTimeoutWarning();

Deno.test("a transactional producer fenced by a newer one with its id is told apart by the broker's error", async () => {
  const kafka = new Kafka({ brokers: sharedBrokers(), logLevel: logLevel.NOTHING });
  const topic = `fenced-${crypto.randomUUID().slice(0, 8)}`;
  const transactionalId = `fenced-${crypto.randomUUID()}`;
  const admin = kafka.admin();
  await admin.connect();
  const producer = (retries: number) =>
    kafka.producer({
      transactionalId,
      idempotent: true,
      maxInFlightRequests: 1,
      retry: { retries },
      createPartitioner: Partitioners.DefaultPartitioner,
    });
  const old = producer(1);
  const successor = producer(5);
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
    await old.connect();
    const transaction = await old.transaction();
    await transaction.send({ topic, messages: [{ key: "k", value: "before" }] });
    // The successor's InitProducerId (its first transaction) bumps the epoch: the old
    // producer is fenced.
    await successor.connect();
    const taken = await successor.transaction();
    const error = await transaction.commit().then(() => undefined, (e: unknown) => e);
    assert.ok(error instanceof Error, "the fenced producer's commit must fail");
    assert.equal(isProducerFenced(error), true, `${error.name}: ${error.message}`);
    assert.equal(isRetriableKafkaError(error), false);
    await taken.abort();
  } finally {
    await old.disconnect().catch(() => {});
    await successor.disconnect();
    await admin.deleteTopics({ topics: [topic] }).catch(() => {});
    await admin.disconnect();
  }
});
