/**
 * Topic names and layout of the pipeline, shared by the services, the local broker
 * launcher and the tests so that nobody spells a topic twice.
 *
 * @module
 */
import { z } from "zod";
import { durationVar, type Env, parseEnv } from "./env.ts";

/** Names of the topics the pipeline uses. */
export interface TopicNames {
  /** Payments accepted by the producer API (key: payment_id). */
  requests: string;
  /** One committed result per request record (key: payment_id). */
  results: string;
  /** Poison records, original bytes untouched, headers say why. */
  dlq: string;
  /**
   * The payment tasks' changelog (key: payment_id, partition of the request): each
   * payment id taken for a decision (a claim) with its repeats, written in the same
   * transaction as what answered the request; compacted, and deleted after the
   * de-duplication retention. One per consumer group.
   */
  decisions: string;
  /**
   * The repartition topic (key: customer_id): each new payment forwarded by the
   * payment task that claimed it to the customer task that decides it, so one
   * customer's payments are decided in order by one owner. One per consumer group.
   */
  byCustomer: string;
  /**
   * The customer tasks' changelog (key: payment_id, partition of the customer): each
   * decision with its outcome and rule; compacted, and deleted after the
   * de-duplication retention. One per consumer group.
   */
  customerDecisions: string;
}

/** The variable that names each topic, for messages about a topic the operator must fix. */
export const TOPIC_VARIABLES: Readonly<Record<keyof TopicNames, string>> = Object.freeze({
  requests: "TOPIC_PAYMENT_REQUESTS",
  results: "TOPIC_PAYMENT_RESULTS",
  dlq: "TOPIC_PAYMENT_DLQ",
  decisions: "TOPIC_PAYMENT_DECISIONS",
  byCustomer: "TOPIC_PAYMENT_BY_CUSTOMER",
  customerDecisions: "TOPIC_PAYMENT_CUSTOMER_DECISIONS",
});

/**
 * The environment naming every topic of `names` (`TOPIC_PAYMENT_REQUESTS=...`), for a
 * service started on topics other than the defaults.
 */
export function topicsEnv(names: TopicNames): Record<string, string> {
  return Object.fromEntries(
    (Object.keys(TOPIC_VARIABLES) as (keyof TopicNames)[]).map((kind) => [
      TOPIC_VARIABLES[kind],
      names[kind],
    ]),
  );
}

/** The lab's topic names; each can be overridden through the environment. */
export const DEFAULT_TOPICS: Readonly<TopicNames> = Object.freeze({
  requests: "payment_requests",
  results: "payment_results",
  dlq: "payment_requests.dlq",
  decisions: "payment_decisions",
  byCustomer: "payment_requests.by_customer",
  customerDecisions: "payment_decisions.by_customer",
});

/** How long a payment id is remembered by default (`CONSUMER_DEDUP_RETENTION`): 7 days. */
export const DEFAULT_DEDUP_RETENTION_MS = 7 * 24 * 60 * 60 * 1000;

/**
 * `CONSUMER_DEDUP_RETENTION` (`7d`, `24h`, `30m`): how long the consumer remembers a
 * payment id, and so how long its internal topics keep records. Read by the consumer
 * and by `deno task kafka`, which creates those topics.
 */
export const dedupRetentionVar = durationVar.default(DEFAULT_DEDUP_RETENTION_MS);

/** `CONSUMER_DEDUP_RETENTION` of `env` in ms; throws a `ConfigError` naming it when invalid. */
export function loadDedupRetention(env: Env): number {
  return parseEnv(z.object({ CONSUMER_DEDUP_RETENTION: dedupRetentionVar }), env)
    .CONSUMER_DEDUP_RETENTION;
}

/** Partition count used locally for every topic (requests, results and the internal topics must match). */
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
 * The repartition topic's configuration: plain deletion after the de-duplication
 * retention. A forwarded payment is read once by the customer task that decides it;
 * the retention only has to outlast a consumer group that is down.
 */
export function repartitionConfig(retentionMs: number): { name: string; value: string }[] {
  return [
    { name: "cleanup.policy", value: "delete" },
    { name: "retention.ms", value: String(retentionMs) },
  ];
}

/**
 * The topics to create for a pipeline, all with one partition count: a payment's
 * result and claim land on the partition number of its request, and its decision on
 * the partition number its customer is forwarded to.
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
    {
      topic: names.byCustomer,
      numPartitions: partitions,
      configEntries: repartitionConfig(dedupRetentionMs),
    },
    {
      topic: names.customerDecisions,
      numPartitions: partitions,
      configEntries: changelogConfig(dedupRetentionMs),
    },
  ];
}
