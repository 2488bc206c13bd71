/**
 * The consumer's start-up check of its topics. The requests, results and DLQ topics
 * must exist: a missing one is named with its variable, and the start is retried (the
 * topic may be on its way). The changelog topic must exist, have the partition count
 * of the requests topic (the store of input partition p is the changelog partition
 * p), and keep records at least as long as the de-duplication retention; otherwise
 * the consumer refuses to start, in one sentence naming the topic and what is wrong:
 * guessing would silently weaken "never approved twice".
 *
 * @module
 */
import { type Admin, ConfigResourceTypes } from "kafkajs";
import { TOPIC_VARIABLES, type TopicNames } from "@payments/shared/topics";

/** Topics the consumer needs do not exist (yet): retriable, the message names each one. */
export class MissingTopicsError extends Error {
  override name = "MissingTopicsError";
  readonly retriable = true;
}

/** The changelog topic is missing or wrong: not retriable, the operator must fix it. */
export class ChangelogTopicError extends Error {
  override name = "ChangelogTopicError";
  readonly retriable = false;
}

/** What is checked. */
export interface TopicsCheck {
  topics: TopicNames;
  /** `CONSUMER_DEDUP_RETENTION` in ms. */
  retentionMs: number;
}

/** How to create the topic, for the error message. */
function howToCreate(check: TopicsCheck, partitions: number | string): string {
  return `create it with ${partitions} partitions, cleanup.policy=compact,delete and ` +
    `retention.ms=${check.retentionMs} (deno task kafka and compose.yaml do)`;
}

/**
 * Checks the consumer's topics; resolves with warnings worth a log line. Throws a
 * {@linkcode MissingTopicsError} (retriable) naming every missing input or output
 * topic with its variable, and a {@linkcode ChangelogTopicError} when the consumer
 * must not start. Errors reaching Kafka propagate unchanged (retriable).
 */
export async function checkTopics(admin: Admin, check: TopicsCheck): Promise<string[]> {
  const { requests: requestsTopic, decisions: changelogTopic } = check.topics;
  const existing = new Set(await admin.listTopics());
  const missing = (["requests", "results", "dlq"] as const)
    .filter((kind) => !existing.has(check.topics[kind]))
    .map((kind) => `the topic ${check.topics[kind]} (${TOPIC_VARIABLES[kind]}) does not exist`);
  if (!existing.has(changelogTopic)) {
    const partitions = existing.has(requestsTopic)
      ? (await admin.fetchTopicMetadata({ topics: [requestsTopic] })).topics[0]!.partitions.length
      : `${requestsTopic}'s`;
    throw new ChangelogTopicError(
      `Cannot start: the changelog topic ${changelogTopic} (TOPIC_PAYMENT_DECISIONS) does not ` +
        `exist; ${howToCreate(check, partitions)}`,
    );
  }
  if (missing.length > 0) throw new MissingTopicsError(missing.join("; "));
  const { topics } = await admin.fetchTopicMetadata({ topics: [requestsTopic, changelogTopic] });
  const count = (name: string) => topics.find((t) => t.name === name)!.partitions.length;
  const [requests, changelog] = [count(requestsTopic), count(changelogTopic)];
  if (requests !== changelog) {
    throw new ChangelogTopicError(
      `Cannot start: the changelog topic ${changelogTopic} has ${changelog} partitions but ` +
        `${requestsTopic} has ${requests}; they must match (the decisions of input partition ` +
        `p live in changelog partition p), so recreate ${changelogTopic} with ${requests} partitions`,
    );
  }
  const { resources } = await admin.describeConfigs({
    includeSynonyms: false,
    resources: [{
      type: ConfigResourceTypes.TOPIC,
      name: changelogTopic,
      configNames: ["cleanup.policy", "retention.ms"],
    }],
  });
  const entries = new Map(
    (resources[0]?.configEntries ?? []).map((e) => [e.configName, e.configValue]),
  );
  const retention = Number(entries.get("retention.ms") ?? -1);
  if (retention >= 0 && retention < check.retentionMs) {
    throw new ChangelogTopicError(
      `Cannot start: the changelog topic ${changelogTopic} keeps records for retention.ms=` +
        `${retention}, less than CONSUMER_DEDUP_RETENTION (${check.retentionMs} ms): payment ` +
        `ids would be forgotten early; raise its retention.ms or lower CONSUMER_DEDUP_RETENTION`,
    );
  }
  const policy = entries.get("cleanup.policy") ?? "";
  return policy.split(",").includes("compact") ? [] : [
    `The changelog topic ${changelogTopic} has cleanup.policy=${policy}: without compaction ` +
    `it keeps every progress record until retention; cleanup.policy=compact,delete is meant`,
  ];
}
