/**
 * The start-up check of the changelog topic: it must exist, have the partition count
 * of the requests topic (the store of input partition p is the changelog partition
 * p), and keep records at least as long as the de-duplication retention. A consumer
 * that finds otherwise refuses to start, in one sentence naming the topic and what
 * is wrong: guessing would silently weaken "never approved twice".
 *
 * @module
 */
import { type Admin, ConfigResourceTypes } from "kafkajs";

/** The changelog topic is missing or wrong: not retriable, the operator must fix it. */
export class ChangelogTopicError extends Error {
  override name = "ChangelogTopicError";
  readonly retriable = false;
}

/** What is checked. */
export interface ChangelogTopicCheck {
  requestsTopic: string;
  changelogTopic: string;
  /** `CONSUMER_DEDUP_RETENTION` in ms. */
  retentionMs: number;
}

/** How to create the topic, for the error message. */
function howToCreate(check: ChangelogTopicCheck, partitions: number | string): string {
  return `create it with ${partitions} partitions, cleanup.policy=compact,delete and ` +
    `retention.ms=${check.retentionMs} (deno task kafka and compose.yaml do)`;
}

/**
 * Checks the changelog topic; resolves with warnings worth a log line, throws a
 * {@linkcode ChangelogTopicError} when the consumer must not start. Errors reaching
 * Kafka propagate unchanged (retriable).
 */
export async function checkChangelogTopic(
  admin: Admin,
  check: ChangelogTopicCheck,
): Promise<string[]> {
  const { requestsTopic, changelogTopic } = check;
  const existing = new Set(await admin.listTopics());
  if (!existing.has(changelogTopic)) {
    const partitions = existing.has(requestsTopic)
      ? (await admin.fetchTopicMetadata({ topics: [requestsTopic] })).topics[0]!.partitions.length
      : `${requestsTopic}'s`;
    throw new ChangelogTopicError(
      `Cannot start: the changelog topic ${changelogTopic} (TOPIC_PAYMENT_DECISIONS) does not ` +
        `exist; ${howToCreate(check, partitions)}`,
    );
  }
  if (!existing.has(requestsTopic)) {
    throw new Error(`the requests topic ${requestsTopic} does not exist yet`);
  }
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
