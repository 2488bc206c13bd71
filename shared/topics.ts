/**
 * Topic names and layout of the pipeline, shared by the services, the local broker
 * launcher and the tests so that nobody spells a topic twice.
 *
 * @module
 */

/** Names of the topics the pipeline uses. */
export interface TopicNames {
  /** Payments accepted by the producer API (key: payment_id). */
  requests: string;
  /** One committed result per request record (key: payment_id). */
  results: string;
  /** Poison records, original bytes untouched, headers say why. */
  dlq: string;
  /**
   * The consumer's changelog (key: payment_id): what it decided, written in the same
   * transaction as the results; compacted, and deleted after the de-duplication
   * retention. One per consumer group.
   */
  decisions: string;
}

/** The variable that names each topic, for messages about a topic the operator must fix. */
export const TOPIC_VARIABLES: Readonly<Record<keyof TopicNames, string>> = Object.freeze({
  requests: "TOPIC_PAYMENT_REQUESTS",
  results: "TOPIC_PAYMENT_RESULTS",
  dlq: "TOPIC_PAYMENT_DLQ",
  decisions: "TOPIC_PAYMENT_DECISIONS",
});

/** The lab's topic names; each can be overridden through the environment. */
export const DEFAULT_TOPICS: Readonly<TopicNames> = Object.freeze({
  requests: "payment_requests",
  results: "payment_results",
  dlq: "payment_requests.dlq",
  decisions: "payment_decisions",
});

/** How long a payment id is remembered by default (`CONSUMER_DEDUP_RETENTION`): 7 days. */
export const DEFAULT_DEDUP_RETENTION_MS = 7 * 24 * 60 * 60 * 1000;

/** Partition count used locally for requests and results (they must match). */
export const DEFAULT_PARTITIONS = 6;

/** What a topic needs to be created with. */
export interface TopicSpec {
  topic: string;
  numPartitions: number;
  /** Topic configuration (e.g. `cleanup.policy`), Kafka's names and string values. */
  configEntries?: { name: string; value: string }[];
}

/**
 * The changelog's topic configuration: compacted (the newest record per payment id
 * is kept) and deleted once older than the de-duplication retention.
 */
export function changelogConfig(retentionMs: number): { name: string; value: string }[] {
  return [
    { name: "cleanup.policy", value: "compact,delete" },
    { name: "retention.ms", value: String(retentionMs) },
  ];
}

/**
 * The topics to create for a pipeline: requests, results and the changelog share a
 * partition count so a payment's result and decision land on the partition number of
 * its request.
 *
 * @example
 * ```ts
 * topicSpecs(DEFAULT_TOPICS); // [{ topic: "payment_requests", numPartitions: 6 }, ...]
 * ```
 */
export function topicSpecs(
  names: TopicNames = DEFAULT_TOPICS,
  partitions: number = DEFAULT_PARTITIONS,
  dedupRetentionMs: number = DEFAULT_DEDUP_RETENTION_MS,
): TopicSpec[] {
  return [
    { topic: names.requests, numPartitions: partitions },
    { topic: names.results, numPartitions: partitions },
    { topic: names.dlq, numPartitions: partitions },
    {
      topic: names.decisions,
      numPartitions: partitions,
      configEntries: changelogConfig(dedupRetentionMs),
    },
  ];
}
