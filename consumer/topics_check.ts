/**
 * The consumer's start-up check of its topics. The requests, results and DLQ topics
 * must exist: a missing one is named with its variable, and the start is retried (the
 * topic may be on its way). The internal topics (the two changelogs and the
 * repartition topic) must exist, have the partition count of the requests topic (the
 * store of task partition p follows changelog partition p, and a customer's payments
 * are forwarded by the same partitioner as its requests), keep records at least as
 * long as the de-duplication retention, and the repartition topic must not be
 * compacted (compaction keeps one record per customer and would drop payments);
 * otherwise the consumer refuses to start, in one sentence naming the topic and what
 * is wrong: guessing would silently weaken "never approved twice".
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

/** An internal topic (changelog or repartition) is missing or wrong: not retriable, the operator must fix it. */
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

/** The internal topics, what each is called in messages, and the cleanup policy it needs. */
const INTERNAL = [
  { kind: "decisions", what: "changelog topic", policy: "compact,delete" },
  { kind: "byCustomer", what: "repartition topic", policy: "delete" },
  { kind: "customerDecisions", what: "changelog topic", policy: "compact,delete" },
] as const;

type Internal = typeof INTERNAL[number];

function howToCreate(check: TopicsCheck, topic: Internal, partitions: number | string): string {
  return `create it with ${partitions} partitions, cleanup.policy=${topic.policy} and ` +
    `retention.ms=${check.retentionMs} (deno task kafka and compose.yaml do)`;
}

async function topicConfig(admin: Admin, topics: string[]) {
  const { resources } = await admin.describeConfigs({
    includeSynonyms: false,
    resources: topics.map((name) => ({
      type: ConfigResourceTypes.TOPIC,
      name,
      configNames: ["cleanup.policy", "retention.ms"],
    })),
  });
  return new Map(resources.map((r) => [
    r.resourceName,
    new Map(r.configEntries.map((e) => [e.configName, e.configValue])),
  ]));
}

/** Refuses an internal topic whose retention or cleanup policy would lose what it must keep. */
function checkConfig(
  check: TopicsCheck,
  topic: Internal,
  name: string,
  entries: Map<string, string> | undefined,
): string[] {
  const retention = Number(entries?.get("retention.ms") ?? -1);
  if (retention >= 0 && retention < check.retentionMs) {
    throw new ChangelogTopicError(
      `Cannot start: the ${topic.what} ${name} keeps records for retention.ms=` +
        `${retention}, less than CONSUMER_DEDUP_RETENTION (${check.retentionMs} ms): ` +
        `${topic.kind === "byCustomer" ? "payments waiting for a decision" : "payment ids"} ` +
        `would be forgotten early; raise its retention.ms or lower CONSUMER_DEDUP_RETENTION`,
    );
  }
  const policy = (entries?.get("cleanup.policy") ?? "").split(",");
  if (topic.kind === "byCustomer") {
    if (!policy.includes("compact")) return [];
    throw new ChangelogTopicError(
      `Cannot start: the ${topic.what} ${name} has cleanup.policy=${policy.join(",")}: ` +
        `compaction keeps one record per customer and would drop forwarded payments; ` +
        `set cleanup.policy=delete`,
    );
  }
  return policy.includes("compact") ? [] : [
    `The ${topic.what} ${name} has cleanup.policy=${policy.join(",")}: without compaction ` +
    `it keeps every progress record until retention; cleanup.policy=compact,delete is meant`,
  ];
}

/**
 * Checks the consumer's topics; resolves with warnings worth a log line. Throws a
 * {@linkcode MissingTopicsError} (retriable) naming every missing input or output
 * topic with its variable, and a {@linkcode ChangelogTopicError} when the consumer
 * must not start. Errors reaching Kafka propagate unchanged (retriable).
 */
export async function checkTopics(admin: Admin, check: TopicsCheck): Promise<string[]> {
  const requestsTopic = check.topics.requests;
  const existing = new Set(await admin.listTopics());
  const missing = (["requests", "results", "dlq"] as const)
    .filter((kind) => !existing.has(check.topics[kind]))
    .map((kind) => `the topic ${check.topics[kind]} (${TOPIC_VARIABLES[kind]}) does not exist`);
  for (const topic of INTERNAL) {
    const name = check.topics[topic.kind];
    if (existing.has(name)) continue;
    const partitions = existing.has(requestsTopic)
      ? (await admin.fetchTopicMetadata({ topics: [requestsTopic] })).topics[0]!.partitions.length
      : `${requestsTopic}'s`;
    throw new ChangelogTopicError(
      `Cannot start: the ${topic.what} ${name} (${TOPIC_VARIABLES[topic.kind]}) does not ` +
        `exist; ${howToCreate(check, topic, partitions)}`,
    );
  }
  if (missing.length > 0) throw new MissingTopicsError(missing.join("; "));
  const names = INTERNAL.map((topic) => check.topics[topic.kind]);
  const { topics } = await admin.fetchTopicMetadata({ topics: [requestsTopic, ...names] });
  const count = (name: string) => topics.find((t) => t.name === name)!.partitions.length;
  const requests = count(requestsTopic);
  for (const topic of INTERNAL) {
    const name = check.topics[topic.kind];
    if (count(name) === requests) continue;
    throw new ChangelogTopicError(
      `Cannot start: the ${topic.what} ${name} has ${count(name)} partitions but ` +
        `${requestsTopic} has ${requests}; they must match (task partition p follows ` +
        `partition p of every internal topic), so recreate ${name} with ${requests} partitions`,
    );
  }
  const configs = await topicConfig(admin, names);
  return INTERNAL.flatMap((topic) =>
    checkConfig(check, topic, check.topics[topic.kind], configs.get(check.topics[topic.kind]))
  );
}
