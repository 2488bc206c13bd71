/**
 * A test's own corner of the shared broker: the pipeline's topics under unique names, a
 * group, a state directory, and a client with a connected admin.
 *
 * @example
 * ```ts
 * import { testKafka } from "@payments/testing/test_kafka";
 * Deno.test("...", async () => {
 *   await using t = await testKafka("rules", 3);
 *   await t.admin.fetchTopicOffsets(t.topics.requests);
 * });
 * ```
 *
 * @module
 */
import type { Admin, Kafka } from "kafkajs";
import type { TopicNames } from "@payments/shared/topics";
import { createTopics, uniqueTopics } from "@payments/stack/topics";
import { sharedBrokers } from "./brokers.ts";
import { testClient } from "./kafka.ts";

/** A test's client, connected admin and names of its own; dispose to disconnect. */
export interface TestKafka extends AsyncDisposable {
  kafka: Kafka;
  admin: Admin;
  brokers: string[];
  topics: TopicNames;
  groupId: string;
  /** The consumers' state directory (one disk shared by the test's consumers); removed on dispose. */
  stateDir: string;
}

/**
 * The pipeline's four topics with a random suffix and `partitions` each, created with
 * leaders on the shared broker, a group name and a state directory for this test.
 */
export async function testKafka(name: string, partitions = 3): Promise<TestKafka> {
  const brokers = sharedBrokers();
  const topics = uniqueTopics(name);
  await createTopics(brokers, topics, partitions);
  const kafka = testClient(brokers, { clientId: `test-${name}` });
  const admin = kafka.admin();
  await admin.connect();
  const stateDir = await Deno.makeTempDir({ prefix: "payments-consumer-state-" });
  return {
    kafka,
    admin,
    brokers,
    topics,
    groupId: `${topics.requests}.group`,
    stateDir,
    [Symbol.asyncDispose]: async () => {
      await admin.disconnect();
      await Deno.remove(stateDir, { recursive: true }).catch(() => {});
    },
  };
}
