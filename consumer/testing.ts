/**
 * What only the consumer's tests need (not a test file): its settings made fast for tests,
 * and the consumer service run in the test's own process. Everything else (brokers,
 * topics, payments, produce, read-back, the exactly-once verdict, subprocesses) is in
 * `@payments/testing`.
 *
 * @module
 */
import { Registry } from "prom-client";
import { compressionType, type KafkaCompression } from "@payments/shared/kafka_codecs";
import type { TestKafka } from "@payments/testing/test_kafka";
import { type ConsumerSettings, loadConsumerSettings } from "./config.ts";
import { createConsumerMetrics } from "./metrics.ts";
import { type ConsumerService, createConsumerService } from "./service.ts";
import type { FaultInjector } from "./worker.ts";

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
    config: {
      ...(options.settings ?? testSettings()),
      topics: t.topics,
      consumerGroupId: t.groupId,
      stateDir: t.stateDir,
      // Lag is measured by the tests themselves where they need it.
      lagMonitor: { enabled: false, intervalMs: 5000 },
    },
    registry,
    metrics: createConsumerMetrics(registry, t.topics.requests),
    ...(options.compression ? { compression: compressionType(options.compression) } : {}),
    ...(options.faults ? { faults: options.faults } : {}),
  });
  await service.worker.start();
  return { ...service, [Symbol.asyncDispose]: () => service.worker.stop() };
}
