/**
 * Topics for one test or benchmark run: unique names so runs never see each
 * other's records, created with leaders before use, deleted afterwards.
 *
 * @module
 */
import { type Admin, type ITopicConfig, Kafka, logLevel } from "kafkajs";
import { muteKafkajsTimeoutWarning } from "@payments/shared/kafkajs_quiet";
import {
  changelogConfig,
  DEFAULT_DEDUP_RETENTION_MS,
  type TopicNames,
} from "@payments/shared/topics";

function admin(brokers: string[]) {
  muteKafkajsTimeoutWarning();
  return new Kafka({ clientId: "test-topics", brokers, logLevel: logLevel.NOTHING }).admin();
}

/** `<prefix>-<random>.requests`, `.results`, `.requests.dlq` and `.decisions`. */
export function uniqueTopics(prefix: string): TopicNames {
  const id = `${prefix}-${crypto.randomUUID().slice(0, 8)}`;
  return {
    requests: `${id}.requests`,
    results: `${id}.results`,
    dlq: `${id}.requests.dlq`,
    decisions: `${id}.decisions`,
  };
}

/** Creates the pipeline's topics with `partitions` each and waits for their leaders. */
export async function createTopics(
  brokers: string[],
  topics: TopicNames,
  partitions = 6,
  replicationFactor = 1,
): Promise<void> {
  const client = admin(brokers);
  await client.connect();
  try {
    await createTopicsWithLeaders(client, [
      ...[topics.requests, topics.results, topics.dlq].map((topic) => ({
        topic,
        numPartitions: partitions,
        replicationFactor,
      })),
      {
        topic: topics.decisions,
        numPartitions: partitions,
        replicationFactor,
        configEntries: changelogConfig(DEFAULT_DEDUP_RETENTION_MS),
      },
    ]);
  } finally {
    await client.disconnect();
  }
}

/** Creates `topics` with a connected admin client and waits until they have leaders. */
export async function createTopicsWithLeaders(
  client: Admin,
  topics: ITopicConfig[],
): Promise<void> {
  try {
    await client.createTopics({ waitForLeaders: true, topics });
  } catch (error) {
    // kafkajs' wait for leaders gives up when a KRaft broker briefly answers
    // UNKNOWN_TOPIC_OR_PARTITION for a topic it has just created: wait on our own.
    if (!/does not host this topic-partition/.test(String(error))) throw error;
    await waitForLeaders(client, topics.map((t) => t.topic));
  }
}

async function waitForLeaders(client: Admin, names: string[]): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      const { topics } = await client.fetchTopicMetadata({ topics: names });
      if (topics.every((t) => t.partitions.every((p) => p.leader >= 0))) return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
    }
    if (Date.now() > deadline) throw new Error(`no leaders for ${names.join(", ")} after 30 s`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** {@linkcode uniqueTopics} created on `brokers` (3 partitions unless told). */
export async function createPipelineTopics(
  brokers: string[],
  prefix: string,
  options: { partitions?: number; replicationFactor?: number } = {},
): Promise<TopicNames> {
  const topics = uniqueTopics(prefix);
  await createTopics(brokers, topics, options.partitions ?? 3, options.replicationFactor ?? 1);
  return topics;
}

/** Deletes topics; errors are ignored (clean-up must not hide a test's failure). */
export async function deleteTopics(brokers: string[], names: string[]): Promise<void> {
  const client = admin(brokers);
  try {
    await client.connect();
    await client.deleteTopics({ topics: names, timeout: 10_000 });
  } catch {
    /* best effort */
  } finally {
    await client.disconnect().catch(() => {});
  }
}
