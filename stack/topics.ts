/**
 * Topics for one benchmark or test run: unique names so runs never see each other's
 * records, created with leaders before use, counted, deleted afterwards. Each call builds
 * its own short-lived admin client for `brokers`; the caller's main (or the test client,
 * `@payments/testing/kafka`) has muted kafkajs' timer warning and registered the codecs.
 *
 * @example
 * ```ts
 * const topics = await createPipelineTopics(["127.0.0.1:9092"], "bench-e2e", { partitions: 6 });
 * await recordsHeld(["127.0.0.1:9092"], topics.requests); // 0
 * await deleteTopics(["127.0.0.1:9092"], Object.values(topics));
 * ```
 *
 * @module
 */
import { type Admin, Kafka, logLevel } from "kafkajs";
import { createTopicsWithLeaders } from "@payments/kafka/admin";
import { DEFAULT_DEDUP_RETENTION_MS, type TopicNames, topicSpecs } from "@payments/shared/topics";

async function withAdmin<T>(brokers: string[], use: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = new Kafka({ clientId: "run-topics", brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    return await use(admin);
  } finally {
    await admin.disconnect();
  }
}

/** `<prefix>-<random>.requests`, `.results`, `.requests.dlq`, `.decisions` and the internal topics. */
export function uniqueTopics(prefix: string): TopicNames {
  const id = `${prefix}-${crypto.randomUUID().slice(0, 8)}`;
  return {
    requests: `${id}.requests`,
    results: `${id}.results`,
    dlq: `${id}.requests.dlq`,
    decisions: `${id}.decisions`,
    byCustomer: `${id}.requests.by_customer`,
    customerDecisions: `${id}.decisions.by_customer`,
  };
}

/**
 * Creates the pipeline's topics (the changelog compacted, as `deno task kafka` creates
 * it) with `partitions` each and waits for their leaders.
 */
export async function createTopics(
  brokers: string[],
  topics: TopicNames,
  partitions = 6,
  replicationFactor = 1,
): Promise<void> {
  await withAdmin(brokers, (admin) =>
    createTopicsWithLeaders(
      admin,
      topicSpecs(topics, partitions, DEFAULT_DEDUP_RETENTION_MS).map((spec) => ({
        ...spec,
        replicationFactor,
      })),
    ));
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

/**
 * The records `topic` holds now: log-end minus log-start offset, summed over its
 * partitions. On a topic nothing was deleted from, every record ever written (and, on a
 * transactional topic, its commit markers too). Asks through `admin` when given a
 * connected one (a poll), else through a client of its own for `brokers`.
 */
export async function recordsHeld(brokers: string[] | Admin, topic: string): Promise<number> {
  const count = async (admin: Admin) => {
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.reduce((sum, o) => sum + Number(o.high) - Number(o.low), 0);
  };
  return Array.isArray(brokers) ? await withAdmin(brokers, count) : await count(brokers);
}

/** Deletes topics; errors are ignored (clean-up must not hide a run's failure). */
export async function deleteTopics(brokers: string[], names: string[]): Promise<void> {
  const admin = new Kafka({ clientId: "run-topics", brokers, logLevel: logLevel.NOTHING }).admin();
  try {
    await admin.connect();
    await admin.deleteTopics({ topics: names, timeout: 10_000 });
  } catch {
    /* best effort */
  } finally {
    await admin.disconnect().catch(() => {});
  }
}
