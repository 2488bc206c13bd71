/**
 * Set-up shared by the producer's integration tests: a real kafkajs publisher on
 * a fresh topic of a real broker, and an app over it.
 *
 * @module
 */
import { Kafka, logLevel } from "kafkajs";
import { kafkaClientConfig } from "@payments/shared/kafka";
import { loadConfig } from "@payments/shared/config";
import { muteKafkajsTimeoutWarning } from "@payments/kafka/harness";
import { type AppConfig, createApp } from "./app.ts";
import { KafkaPublisher } from "./kafka_publisher.ts";
import { createProducerMetrics, createProducerRegistry } from "./metrics.ts";
import { TEST_CONFIG } from "./testing.ts";

/** A kafkajs client for `bootstrap` with quick failure settings. */
export function testKafka(bootstrap: string, clientId = "producer-test"): Kafka {
  muteKafkajsTimeoutWarning();
  const settings = loadConfig({
    KAFKA_BROKERS: bootstrap,
    KAFKA_CONNECTION_TIMEOUT_MS: "1000",
    KAFKA_REQUEST_TIMEOUT_MS: "3000",
  }).kafka;
  return new Kafka({ ...kafkaClientConfig(settings, clientId), logLevel: logLevel.NOTHING });
}

/** Creates a topic only this test uses. */
export async function createTopic(kafka: Kafka, prefix: string, partitions = 3): Promise<string> {
  const topic = `${prefix}-${crypto.randomUUID().slice(0, 8)}`;
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({
      topics: [{ topic, numPartitions: partitions }],
      waitForLeaders: true,
    });
  } finally {
    await admin.disconnect();
  }
  return topic;
}

/** Sum of the topic's end offsets (its record count when nothing was deleted). */
export async function endOffsetTotal(kafka: Kafka, topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.reduce((sum, entry) => sum + Number(entry.high), 0);
  } finally {
    await admin.disconnect();
  }
}

/** A ready app over a real publisher writing to `topic`; dispose to disconnect. */
export async function realApp(
  kafka: Kafka,
  topic: string,
  config: Partial<AppConfig> & { readyIntervalMs?: number } = {},
) {
  const metrics = createProducerMetrics(createProducerRegistry(), topic);
  const appConfig = { ...TEST_CONFIG, sendTimeoutMs: 5000, ...config };
  const publisher = new KafkaPublisher({
    kafka,
    topic,
    sendTimeoutMs: appConfig.sendTimeoutMs,
    readyIntervalMs: config.readyIntervalMs ?? 5000,
    metrics,
  });
  publisher.start();
  try {
    await publisher.whenReady(30_000);
  } catch (error) {
    await publisher.close();
    throw error;
  }
  const app = createApp({ publisher, metrics, config: appConfig });
  return {
    app,
    publisher,
    metrics,
    [Symbol.asyncDispose]: () => publisher.close(),
  };
}

/** Records of `topic` read by kcat, an independent client (`-J` envelope). */
export interface KcatRecord {
  topic: string;
  partition: number;
  offset: number;
  key: string;
  payload: string;
  headers?: string[];
}

/** Reads every record of `topic` from the beginning with kcat. */
export async function kcatRead(bootstrap: string, topic: string): Promise<KcatRecord[]> {
  const { code, stdout, stderr } = await new Deno.Command("kcat", {
    args: ["-C", "-b", bootstrap, "-t", topic, "-o", "beginning", "-e", "-J", "-q"],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (code !== 0) throw new Error(`kcat failed (${code}): ${new TextDecoder().decode(stderr)}`);
  return new TextDecoder().decode(stdout).split("\n").filter((line) => line.trim())
    .map((line) => JSON.parse(line));
}

/** kcat's `headers` array ([k1, v1, k2, v2, ...]) as an object. */
export function kcatHeaders(record: KcatRecord): Record<string, string> {
  const headers: Record<string, string> = {};
  const list = record.headers ?? [];
  for (let i = 0; i + 1 < list.length; i += 2) headers[list[i]!] = list[i + 1]!;
  return headers;
}
