/**
 * The launcher's kafkajs admin calls: wait until a broker answers metadata, then create
 * topics idempotently, with leaders, before anyone uses them. kafkajs logs nothing here; failures surface as errors.
 *
 * @module
 */
import { type Admin, type ITopicConfig, Kafka, logLevel } from "kafkajs";
import type { TopicSpec } from "@payments/shared/topics";
import { muteKafkajsTimeoutWarning } from "@payments/shared/kafkajs_quiet";
import { isUnknownTopic } from "@payments/shared/kafka_errors";

/** Options of {@linkcode waitForMetadata}. */
export interface WaitOptions {
  /** Give up at this `Date.now()` value. */
  deadline: number;
  /** Stop waiting early when this returns a reason (e.g. the JVM exited). */
  abortReason?: () => string | undefined;
}

/** Resolves once `bootstrap` answers describeCluster; rejects with the last error at the deadline. */
export async function waitForMetadata(bootstrap: string, options: WaitOptions): Promise<void> {
  muteKafkajsTimeoutWarning();
  const kafka = new Kafka({
    clientId: "payments-kafka-launcher",
    brokers: [bootstrap],
    logLevel: logLevel.NOTHING,
    connectionTimeout: 1_000,
    requestTimeout: 3_000,
    retry: { retries: 0 },
  });
  let lastError: unknown;
  while (Date.now() < options.deadline) {
    const reason = options.abortReason?.();
    if (reason) throw new Error(reason);
    const admin = kafka.admin();
    try {
      await admin.connect();
      const cluster = await admin.describeCluster();
      if (cluster.brokers.length > 0 && cluster.controller !== null) return;
      lastError = new Error("the cluster has no active controller yet");
    } catch (error) {
      lastError = error;
    } finally {
      await admin.disconnect().catch(() => {});
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`no metadata answer from ${bootstrap}`, { cause: lastError });
}

/** Creates the topics that do not exist yet; returns the ones it created. */
export async function ensureTopics(
  bootstrap: string | string[],
  topics: TopicSpec[],
  replicationFactor = 1,
): Promise<string[]> {
  muteKafkajsTimeoutWarning();
  const kafka = new Kafka({
    clientId: "payments-kafka-launcher",
    brokers: typeof bootstrap === "string" ? [bootstrap] : bootstrap,
    logLevel: logLevel.NOTHING,
    retry: { retries: 8, initialRetryTime: 100 },
  });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter((t) => !existing.has(t.topic));
    if (missing.length === 0) return [];
    try {
      await createTopicsWithLeaders(
        admin,
        missing.map((t) => ({
          topic: t.topic,
          numPartitions: t.numPartitions,
          replicationFactor,
          ...(t.configEntries ? { configEntries: t.configEntries } : {}),
        })),
      );
    } catch (error) {
      // Another process may have created them between listTopics and createTopics.
      if (!isAlreadyExists(error)) throw error;
    }
    return missing.map((t) => t.topic);
  } finally {
    await admin.disconnect();
  }
}

function isAlreadyExists(error: unknown): boolean {
  const e = error as { type?: string; errors?: { type?: string }[] };
  if (e?.type === "TOPIC_ALREADY_EXISTS") return true;
  return Array.isArray(e?.errors) && e.errors.every((x) => x.type === "TOPIC_ALREADY_EXISTS");
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
    if (!isUnknownTopic(error)) throw error;
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
