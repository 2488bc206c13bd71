/**
 * Wires one consumer service from a kafkajs client: the group consumer, the history
 * follower, the per-partition transactional producers, the worker and the lag
 * monitor. main.ts and the integration tests build the service the same way.
 *
 * @module
 */
import { type Admin, type Kafka, Partitioners } from "kafkajs";
import type { Registry } from "prom-client";
import { getLogger } from "@logtape/logtape";
import type { Config } from "@payments/shared/config";
import { createLagMonitor, type LagMonitor } from "@payments/shared/lag";
import type { ConsumerSettings } from "./config.ts";
import { DedupWindow, VelocityTracker } from "./dedup.ts";
import { createHistory } from "./history.ts";
import { type ConsumerMetrics, instrumentConsumer } from "./metrics.ts";
import { createWorker, type FaultInjector, type Worker } from "./worker.ts";

/** What a service is built from. */
export interface ServiceDeps {
  kafka: Kafka;
  /** A connected admin client (the caller owns it). */
  admin: Admin;
  config: Pick<Config, "topics" | "consumerGroupId" | "lagMonitor">;
  settings: ConsumerSettings;
  registry: Registry;
  /** The service's metrics, on `registry` (main.ts also feeds them from the Kafka client). */
  metrics: ConsumerMetrics;
  faults?: FaultInjector;
}

/** A wired consumer service. */
export interface ConsumerService {
  worker: Worker;
  metrics: ConsumerMetrics;
  /** Present when the lag monitor is enabled. */
  lag?: LagMonitor;
}

/** Builds a consumer service; nothing connects until `worker.start()` / `lag.start()`. */
export function createConsumerService(deps: ServiceDeps): ConsumerService {
  const { kafka, admin, config, settings, registry, metrics } = deps;
  const consumer = kafka.consumer({
    groupId: config.consumerGroupId,
    sessionTimeout: settings.sessionTimeoutMs,
    heartbeatInterval: Math.min(3000, Math.floor(settings.sessionTimeoutMs / 3)),
    maxWaitTimeInMs: 500,
    readUncommitted: false,
  });
  instrumentConsumer(consumer, metrics);
  const dedup = new DedupWindow(settings.dedupWindow);
  const velocity = new VelocityTracker();
  const history = createHistory({
    consumer: kafka.consumer({
      groupId: `${config.consumerGroupId}.history.${crypto.randomUUID()}`,
      sessionTimeout: 30000,
      maxWaitTimeInMs: 250,
      readUncommitted: false,
    }),
    topics: config.topics,
    dedup,
    velocity,
    logger: getLogger(["payments", "consumer", "history"]),
  });
  const worker = createWorker({
    consumer,
    admin,
    createProducer: (transactionalId) =>
      kafka.producer({
        transactionalId,
        idempotent: true,
        maxInFlightRequests: 1,
        transactionTimeout: settings.transactionTimeoutMs,
        retry: {
          initialRetryTime: settings.transactionRetry.initialRetryTimeMs,
          retries: settings.transactionRetry.retries,
        },
        createPartitioner: Partitioners.DefaultPartitioner,
      }),
    history,
    dedup,
    velocity,
    topics: config.topics,
    groupId: config.consumerGroupId,
    settings,
    metrics,
    logger: getLogger(["payments", "consumer"]),
    ...(deps.faults ? { faults: deps.faults } : {}),
  });
  const lag = config.lagMonitor.enabled
    ? createLagMonitor({
      admin,
      groupId: config.consumerGroupId,
      topics: [config.topics.requests],
      registry,
      intervalMs: config.lagMonitor.intervalMs,
      logger: getLogger(["payments", "consumer", "lag"]),
    })
    : undefined;
  return { worker, metrics, ...(lag ? { lag } : {}) };
}
