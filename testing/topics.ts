/**
 * Topics in tests: the run topics of `@payments/stack/topics` (unique names, created
 * with leaders, counted, deleted), and one bare topic for a test of the producer's client.
 *
 * @module
 */
import { createTopicsWithLeaders } from "@payments/kafka/admin";
import { testClient } from "./kafka.ts";

export { createTopicsWithLeaders } from "@payments/kafka/admin";
export {
  createPipelineTopics,
  createTopics,
  deleteTopics,
  recordsHeld,
  uniqueTopics,
} from "@payments/stack/topics";

/** Creates a topic only this test uses, `<prefix>-<random>`, and waits for its leaders. */
export async function createTopic(
  brokers: string[] | string,
  prefix: string,
  partitions = 3,
): Promise<string> {
  const topic = `${prefix}-${crypto.randomUUID().slice(0, 8)}`;
  const admin = testClient(brokers).admin();
  await admin.connect();
  try {
    await createTopicsWithLeaders(admin, [{ topic, numPartitions: partitions }]);
  } finally {
    await admin.disconnect();
  }
  return topic;
}
