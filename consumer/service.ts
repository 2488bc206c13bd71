/**
 * Wires one consumer service from a kafkajs client: the group consumer, the
 * per-partition transactional producers and stores, the changelog restorer, the
 * velocity follower, the worker and the lag monitor. main.ts and the integration
 * tests build the service the same way.
 *
 * @module
 */
import { type Admin, type CompressionTypes, type Kafka, Partitioners } from "kafkajs";
import type { Registry } from "prom-client";
import { getLogger } from "@logtape/logtape";
import type { LagMonitorSettings } from "@payments/lag/config";
import { createLagMonitor, type LagMonitor } from "@payments/lag/monitor";
import type { Config } from "@payments/shared/config";
import type { ConsumerSettings } from "./config.ts";
import { type ConsumerMetrics, instrumentConsumer } from "./metrics.ts";
import { createAnswerer } from "./answer.ts";
import { createAttempts } from "./attempts.ts";
import { createCommitReporter } from "./tasks/commit_report.ts";
import { createPartitionTask } from "./tasks/partition_task.ts";
import { createTaskManager } from "./tasks/task_manager.ts";
import { restoreFromChangelog } from "./store/changelog_restorer.ts";
import { checkTopics } from "./topics_check.ts";
import { RecentIds } from "./store/recent_ids.ts";
import { VelocityTracker } from "./store/velocity.ts";
import { createVelocityFollower } from "./store/velocity_follower.ts";
import { createWorker, type FaultInjector, type Worker } from "./worker.ts";

/** What a service is built from. */
export interface ServiceDeps {
  kafka: Kafka;
  /** A connected admin client (the caller owns it). */
  admin: Admin;
  config: Pick<Config, "topics" | "consumerGroupId" | "dedupRetentionMs"> & {
    lagMonitor: LagMonitorSettings;
  };
  settings: ConsumerSettings;
  registry: Registry;
  /** The service's metrics, on `registry` (main.ts also feeds them from the Kafka client). */
  metrics: ConsumerMetrics;
  /** How results, dead letters and changelog records are compressed (default none). */
  compression?: CompressionTypes;
  faults?: FaultInjector;
}

/** A wired consumer service. */
export interface ConsumerService {
  worker: Worker;
  metrics: ConsumerMetrics;
  /** Present when the lag monitor is enabled. */
  lag?: LagMonitor;
}

/** A restore that reads nothing new for this long fails (and is retried). */
const RESTORE_STALL_TIMEOUT_MS = 60_000;
/** How long a new owner waits for the velocity view of the other partitions. */
const VELOCITY_WAIT_MS = 30_000;

/** Builds a consumer service; nothing connects until `worker.start()` / `lag.start()`. */
export function createConsumerService(deps: ServiceDeps): ConsumerService {
  const { kafka, admin, config, settings, registry, metrics } = deps;
  const { topics, consumerGroupId: groupId } = config;
  const logger = getLogger(["payments", "consumer"]);
  const consumer = kafka.consumer({
    groupId,
    sessionTimeout: settings.sessionTimeoutMs,
    heartbeatInterval: Math.min(3000, Math.floor(settings.sessionTimeoutMs / 3)),
    maxWaitTimeInMs: 500,
    readUncommitted: false,
  });
  instrumentConsumer(consumer, metrics);
  const velocity = new VelocityTracker();
  const recent = new RecentIds(settings.dedupWindow);
  // Private groups: these read the changelog beside the group, never commit offsets.
  const changelogReader = (group: string) =>
    kafka.consumer({
      groupId: group,
      sessionTimeout: 30_000,
      maxWaitTimeInMs: 100,
      readUncommitted: false,
    });
  const follower = createVelocityFollower({
    consumer: changelogReader(`${groupId}.velocity.${crypto.randomUUID()}`),
    admin,
    topic: topics.decisions,
    velocity,
    logger: getLogger(["payments", "consumer", "velocity"]),
    onCrash: () => metrics.errors.labels("velocity").inc(),
  });
  const partitionCounts = { results: 0, dlq: 0 };
  const answer = createAnswerer({
    topics,
    partitionCounts,
    attempt: createAttempts({
      settings,
      metrics,
      topic: topics.requests,
      logger,
      ...(deps.faults ? { faults: deps.faults } : {}),
    }),
  });
  const report = createCommitReporter({ metrics, logger, topic: topics.requests });
  const tasks = createTaskManager({
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
    createTask: (partition, producer, store) =>
      createPartitionTask({
        partition,
        producer,
        store,
        answer,
        velocity,
        recent,
        rules: settings.rules,
        topics,
        groupId,
        report,
        ...(deps.compression === undefined ? {} : { compression: deps.compression }),
      }),
    admin,
    groupId,
    topics,
    stateDir: settings.stateDir,
    retentionMs: config.dedupRetentionMs,
    restore: (requests) =>
      restoreFromChangelog({
        createConsumer: changelogReader,
        topic: topics.decisions,
        groupPrefix: `${groupId}.restore`,
        stallTimeoutMs: RESTORE_STALL_TIMEOUT_MS,
      }, requests),
    follower,
    velocity,
    recent,
    metrics,
    logger: getLogger(["payments", "consumer", "state"]),
    velocityWaitMs: VELOCITY_WAIT_MS,
  });
  const worker = createWorker({
    consumer,
    admin,
    tasks,
    follower,
    partitionCounts,
    checkTopics: async () => {
      const warnings = await checkTopics(admin, {
        topics,
        retentionMs: config.dedupRetentionMs,
      });
      for (const warning of warnings) logger.warn(warning);
    },
    topics,
    groupId,
    settings,
    metrics,
    logger,
  });
  const lag = config.lagMonitor.enabled
    ? createLagMonitor({
      admin,
      groupId,
      topics: [topics.requests],
      registry,
      intervalMs: config.lagMonitor.intervalMs,
      logger: getLogger(["payments", "consumer", "lag"]),
    })
    : undefined;
  return { worker, metrics, ...(lag ? { lag } : {}) };
}
