/**
 * Topic names and layout of the pipeline, shared by the services, the local broker
 * launcher and the tests so that nobody spells a topic twice.
 *
 * @module
 */

/** Names of the three topics the pipeline uses. */
export interface TopicNames {
  /** Payments accepted by the producer API (key: payment_id). */
  requests: string;
  /** One committed result per request record (key: payment_id). */
  results: string;
  /** Poison records, original bytes untouched, headers say why. */
  dlq: string;
}

/** The lab's topic names; each can be overridden through the environment. */
export const DEFAULT_TOPICS: Readonly<TopicNames> = Object.freeze({
  requests: "payment_requests",
  results: "payment_results",
  dlq: "payment_requests.dlq",
});

/** Partition count used locally for requests and results (they must match). */
export const DEFAULT_PARTITIONS = 6;

/** What a topic needs to be created with. */
export interface TopicSpec {
  topic: string;
  numPartitions: number;
}

/**
 * The topics to create for a pipeline: requests and results share a partition
 * count so a payment's result lands on the partition number of its request.
 *
 * @example
 * ```ts
 * topicSpecs(DEFAULT_TOPICS); // [{ topic: "payment_requests", numPartitions: 6 }, ...]
 * ```
 */
export function topicSpecs(
  names: TopicNames = DEFAULT_TOPICS,
  partitions: number = DEFAULT_PARTITIONS,
): TopicSpec[] {
  return [
    { topic: names.requests, numPartitions: partitions },
    { topic: names.results, numPartitions: partitions },
    { topic: names.dlq, numPartitions: partitions },
  ];
}
