/**
 * Helpers for the consumer's integration tests (not a test file): unique topics per
 * test on the shared broker, payments produced with a plain kafkajs producer, committed
 * answers read back with read_committed, and consumer services in-process or as
 * `deno run consumer/main.ts` subprocesses.
 *
 * @module
 */
import assert from "node:assert/strict";
import { type Admin, Kafka, logLevel, Partitioners } from "kafkajs";
import { Registry } from "prom-client";
import { freePort, muteKafkajsTimeoutWarning, sharedBrokers } from "@payments/kafka/harness";
import {
  compressionType,
  type KafkaCompression,
  registerKafkaCodecs,
} from "@payments/shared/kafka_codecs";
import type { PaymentEvent, PaymentResult } from "@payments/shared/payment";
import {
  changelogConfig,
  DEFAULT_DEDUP_RETENTION_MS,
  type TopicNames,
} from "@payments/shared/topics";
import { type ConsumerSettings, loadConsumerSettings } from "./config.ts";
import { createConsumerMetrics } from "./metrics.ts";
import { type ConsumerService, createConsumerService } from "./service.ts";
import type { FaultInjector } from "./worker.ts";

/** A test's Kafka client, admin and unique names; dispose to disconnect. */
export interface TestKafka extends AsyncDisposable {
  kafka: Kafka;
  admin: Admin;
  brokers: string[];
  topics: TopicNames;
  groupId: string;
  /** The consumers' state directory (one disk shared by the test's consumers); removed on dispose. */
  stateDir: string;
}

/** Creates `<name>.requests/.results/.dlq` topics with a random suffix. */
export async function testKafka(name: string, partitions = 3): Promise<TestKafka> {
  muteKafkajsTimeoutWarning();
  registerKafkaCodecs();
  const brokers = sharedBrokers();
  const kafka = new Kafka({ clientId: `test-${name}`, brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const id = `${name}-${crypto.randomUUID().slice(0, 8)}`;
  const topics = {
    requests: `${id}.requests`,
    results: `${id}.results`,
    dlq: `${id}.requests.dlq`,
    decisions: `${id}.decisions`,
  };
  await admin.createTopics({
    waitForLeaders: false,
    topics: [
      ...[topics.requests, topics.results, topics.dlq].map((topic) => ({
        topic,
        numPartitions: partitions,
      })),
      {
        topic: topics.decisions,
        numPartitions: partitions,
        configEntries: changelogConfig(DEFAULT_DEDUP_RETENTION_MS),
      },
    ],
  });
  // KRaft can answer "does not host this topic-partition" for a moment after creation.
  await eventually(
    async () => {
      try {
        const { topics: meta } = await admin.fetchTopicMetadata({ topics: Object.values(topics) });
        return meta.every((m) =>
          m.partitions.length === partitions && m.partitions.every((p) => p.leader >= 0)
        );
      } catch {
        return false;
      }
    },
    15_000,
    `topics ${id} ready`,
  );
  const stateDir = await Deno.makeTempDir({ prefix: "payments-consumer-state-" });
  return {
    kafka,
    admin,
    brokers,
    topics,
    groupId: `${id}.group`,
    stateDir,
    [Symbol.asyncDispose]: async () => {
      await admin.disconnect();
      await Deno.remove(stateDir, { recursive: true }).catch(() => {});
    },
  };
}

let sequence = 0;
/** A valid payment event; ids unique per call unless given. */
export function payment(over: Partial<PaymentEvent> = {}): PaymentEvent {
  sequence++;
  return {
    payment_id: `P-${Date.now()}-${sequence}`,
    amount: 10,
    merchant_id: "M-1",
    customer_id: `C-${sequence}`,
    currency: "USD",
    description: null,
    status: "PENDING",
    created_at: new Date().toISOString(),
    correlation_id: `corr-${sequence}`,
    source: "test",
    ...over,
  };
}

/** Produces payments keyed by payment_id (optionally to one partition), acks=-1. */
export async function produce(
  t: TestKafka,
  payments: PaymentEvent[],
  partition?: number,
): Promise<void> {
  // Idempotent: a retried send under load must not duplicate input records.
  const producer = t.kafka.producer({
    createPartitioner: Partitioners.DefaultPartitioner,
    idempotent: true,
    maxInFlightRequests: 1,
  });
  await producer.connect();
  try {
    for (let i = 0; i < payments.length; i += 500) {
      await producer.send({
        topic: t.topics.requests,
        acks: -1,
        messages: payments.slice(i, i + 500).map((p) => ({
          key: p.payment_id,
          value: JSON.stringify(p),
          headers: {
            correlation_id: p.correlation_id,
            traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
          },
          ...(partition === undefined ? {} : { partition }),
        })),
      });
    }
  } finally {
    await producer.disconnect();
  }
}

/** One committed answer (result or dead letter). */
export interface Answer {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  value: Uint8Array | null;
  headers: Record<string, string>;
  result?: PaymentResult;
}

/** Committed records on results and DLQ (read_committed), once at least `count` arrived
 * and nothing more came for `quietMs`. */
export async function readAnswers(
  t: TestKafka,
  count: number,
  timeoutMs = 30_000,
  quietMs = 1000,
): Promise<Answer[]> {
  const consumer = t.kafka.consumer({
    groupId: `reader-${crypto.randomUUID()}`,
    readUncommitted: false,
    maxWaitTimeInMs: 200,
  });
  const answers: Answer[] = [];
  let last = Date.now();
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [t.topics.results, t.topics.dlq], fromBeginning: true });
    await consumer.run({
      eachMessage: ({ topic, partition, message }) => {
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(message.headers ?? {})) {
          headers[k] = String(Array.isArray(v) ? v[v.length - 1] : v);
        }
        answers.push({
          topic,
          partition,
          offset: message.offset,
          key: message.key?.toString() ?? null,
          value: message.value,
          headers,
          ...(topic === t.topics.results
            ? { result: JSON.parse(message.value!.toString()) as PaymentResult }
            : {}),
        });
        last = Date.now();
        return Promise.resolve();
      },
    });
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (answers.length >= count && Date.now() - last >= quietMs) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } finally {
    await consumer.disconnect();
  }
  return answers;
}

/** Asserts every input offset has exactly one answer and no payment is approved twice. */
export function assertExactlyOnce(answers: Answer[], inputs: number, requestsTopic: string) {
  const byInput = new Map<string, number>();
  for (const a of answers) {
    assert.equal(a.headers.original_topic, requestsTopic);
    const key = `${a.headers.original_partition}@${a.headers.original_offset}`;
    byInput.set(key, (byInput.get(key) ?? 0) + 1);
  }
  const repeated = [...byInput].filter(([, n]) => n > 1);
  assert.deepEqual(repeated, [], "input records answered more than once");
  assert.equal(byInput.size, inputs, "input records with an answer");
  const approved = new Map<string, number>();
  for (const a of answers) {
    if (a.result?.outcome !== "APPROVED") continue;
    approved.set(a.result.payment_id, (approved.get(a.result.payment_id) ?? 0) + 1);
  }
  assert.deepEqual([...approved].filter(([, n]) => n > 1), [], "payments approved twice");
}

/** Consumer settings for tests: fast sessions and retries. */
export function testSettings(env: Record<string, string> = {}): ConsumerSettings {
  return loadConsumerSettings({
    CONSUMER_SESSION_TIMEOUT_MS: "6000",
    CONSUMER_RETRY_BACKOFF_MS: "20",
    ...env,
  });
}

/** A consumer service running in this process; dispose to stop it. */
export async function runService(
  t: TestKafka,
  options: {
    settings?: ConsumerSettings;
    faults?: FaultInjector;
    registry?: Registry;
    compression?: KafkaCompression;
  } = {},
): Promise<ConsumerService & AsyncDisposable> {
  const registry = options.registry ?? new Registry();
  const service = createConsumerService({
    kafka: t.kafka,
    admin: t.admin,
    // Lag is measured by the tests themselves where they need it.
    config: {
      topics: t.topics,
      consumerGroupId: t.groupId,
      lagMonitor: { enabled: false, intervalMs: 5000 },
      dedupRetentionMs: DEFAULT_DEDUP_RETENTION_MS,
    },
    settings: { ...(options.settings ?? testSettings()), stateDir: t.stateDir },
    registry,
    metrics: createConsumerMetrics(registry, t.topics.requests),
    ...(options.compression ? { compression: compressionType(options.compression) } : {}),
    ...(options.faults ? { faults: options.faults } : {}),
  });
  await service.worker.start();
  return { ...service, [Symbol.asyncDispose]: () => service.worker.stop() };
}

/** `deno run -A consumer/main.ts` for this test's topics and group. */
export function spawnConsumer(t: TestKafka, env: Record<string, string> = {}): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("./main.ts", import.meta.url).pathname],
    env: {
      KAFKA_BROKERS: t.brokers.join(","),
      TOPIC_PAYMENT_REQUESTS: t.topics.requests,
      TOPIC_PAYMENT_RESULTS: t.topics.results,
      TOPIC_PAYMENT_DLQ: t.topics.dlq,
      TOPIC_PAYMENT_DECISIONS: t.topics.decisions,
      CONSUMER_GROUP_ID: t.groupId,
      CONSUMER_STATE_DIR: t.stateDir,
      CONSUMER_PORT: String(freePort()),
      CONSUMER_SESSION_TIMEOUT_MS: "6000",
      LAG_MONITOR_ENABLED: "false",
      LOG_LEVEL: "warning",
      ...env,
    },
    stdout: "null",
    stderr: "null",
  }).spawn();
}

/** Committed records on a topic (sum of last stable offsets). */
export async function topicSize(t: TestKafka, topic: string): Promise<number> {
  const offsets = await t.admin.fetchTopicOffsets(topic);
  return offsets.reduce((sum, o) => sum + Number(o.high) - Number(o.low), 0);
}

/** Resolves once `predicate` holds, polling; throws after `timeoutMs`. */
export async function eventually(
  predicate: () => Promise<boolean> | boolean,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`${what}: not reached within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
