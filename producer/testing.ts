/**
 * What only the producer's tests need (not a test file): an app over the fake publisher
 * (unit tests of the HTTP layer), an app over a real kafkajs publisher (integration
 * tests), and a JSON POST as an HTTP client sends it. Payments, brokers, topics and kcat
 * are in `@payments/testing`.
 *
 * @module
 */
import type { Kafka } from "kafkajs";
import { getLogger } from "@logtape/logtape";
import { type AppConfig, createApp } from "./app.ts";
import { FakePublisher } from "./fake_publisher.ts";
import { FakeStatusReader } from "./fake_status_reader.ts";
import { KafkaPublisher, type KafkaPublisherOptions } from "./kafka_publisher.ts";
import { createProducerMetrics, createProducerRegistry } from "./metrics.ts";

/** Settings of test apps: small limits so tests stay fast. */
export const TEST_CONFIG: AppConfig = {
  apiKeys: [],
  maxBodyBytes: 1024 * 1024,
  sendTimeoutMs: 200,
  retryAfterSeconds: 7,
  source: "payment-producer",
  maxInflightPayments: 2000,
  maxQueuedBytes: 4 * 1024 * 1024,
};

/** The probe token of test apps: requests sending it are the probe's. */
export const TEST_PROBE_TOKEN = "test-probe-token";

/**
 * A fresh app over a fake publisher and a fake status reader: the app, its metrics, its
 * publisher and its statuses (the reads it answers).
 */
export function testApp(config: Partial<AppConfig> = {}) {
  const publisher = new FakePublisher();
  const statuses = new FakeStatusReader();
  const metrics = createProducerMetrics(
    createProducerRegistry({ defaults: false }),
    publisher.topic,
  );
  const app = createApp({
    publisher,
    statuses,
    probeToken: TEST_PROBE_TOKEN,
    metrics,
    config: { ...TEST_CONFIG, ...config },
    logger: getLogger(["payments", "producer", "http"]),
  });
  return { app, publisher, statuses, metrics };
}

/**
 * A started KafkaPublisher for `topic`, ready within `readyWithinMs` (default 30 s),
 * with its own admin client and a test logger, as main.ts builds it; dispose to close.
 */
export async function readyPublisher(
  kafka: Kafka,
  topic: string,
  options: Pick<KafkaPublisherOptions, "sendTimeoutMs" | "readyIntervalMs" | "metrics"> & {
    readyWithinMs?: number;
  },
): Promise<KafkaPublisher> {
  const { readyWithinMs = 30_000, ...rest } = options;
  const publisher = new KafkaPublisher({
    kafka,
    admin: kafka.admin({ retry: { retries: 0 } }),
    logger: getLogger(["test", "publisher"]),
    topic,
    ...rest,
  });
  publisher.start();
  try {
    await publisher.whenReady(readyWithinMs);
  } catch (error) {
    await publisher.close();
    throw error;
  }
  return publisher;
}

/**
 * A ready app over a real publisher writing to `topic` (status reads answered by a fake:
 * the real ones need consumers, `e2e/payment_status_integration_test.ts`); dispose to
 * disconnect.
 */
export async function realApp(
  kafka: Kafka,
  topic: string,
  config: Partial<AppConfig> & { readyIntervalMs?: number } = {},
) {
  const metrics = createProducerMetrics(createProducerRegistry(), topic);
  const appConfig = { ...TEST_CONFIG, sendTimeoutMs: 5000, ...config };
  const publisher = await readyPublisher(kafka, topic, {
    sendTimeoutMs: appConfig.sendTimeoutMs,
    readyIntervalMs: config.readyIntervalMs ?? 5000,
    metrics,
  });
  const app = createApp({
    publisher,
    statuses: new FakeStatusReader(),
    metrics,
    config: appConfig,
    logger: getLogger(["payments", "producer", "http"]),
  });
  return {
    app,
    publisher,
    metrics,
    [Symbol.asyncDispose]: () => publisher.close(),
  };
}

/** A JSON POST request init, with the Content-Length an HTTP client would send. */
export function postJson(body: unknown, headers: Record<string, string> = {}): RequestInit {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  return {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "content-length": String(new TextEncoder().encode(text).length),
      ...headers,
    },
    body: text,
  };
}
