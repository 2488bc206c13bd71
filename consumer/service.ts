/**
 * Wires one consumer service from a kafkajs client: the group consumer, the two task
 * kinds (payment tasks and customer tasks with their processors), the task manager
 * with its changelog restorer, the worker and the lag monitor. main.ts and the
 * integration tests build the service the same way.
 *
 * @module
 */
import type { Admin, CompressionTypes, ICustomPartitioner, Kafka } from "kafkajs";
import type { Registry } from "prom-client";
import { getLogger, type Logger } from "@logtape/logtape";
import { createLagMonitor, type LagMonitor } from "@payments/lag/monitor";
import { createAttempts, type FaultInjector } from "./attempts.ts";
import type { ServiceConfig } from "./config.ts";
import { createCustomerProcessor } from "./customers/customer_processor.ts";
import { type ConsumerMetrics, instrumentConsumer } from "./metrics.ts";
import { createPaymentProcessor, type OutputPartitions } from "./payments/payment_processor.ts";
import { RecentClaims } from "./payments/recent_claims.ts";
import { restoreFromChangelog } from "./store/changelog_restorer.ts";
import { createCommitReporter } from "./tasks/commit_report.ts";
import { type TaskKinds, taskKinds } from "./tasks/task_kinds.ts";
import { createTaskManager } from "./tasks/task_manager.ts";
import { createStandbys, type Standbys } from "./tasks/standbys.ts";
import { localStores, openTaskStore } from "./tasks/store_files.ts";
import type { TaskId } from "./tasks/task.ts";
import type { TaskKind } from "./tasks/task_kinds.ts";
import { topicOffsets } from "./store/topic_offsets.ts";
import { createStoreChecker } from "./store/store_check.ts";
import { taskAssignor } from "./group/assignor.ts";
import { type MemberInfo, noTasks } from "@payments/shared/task_group";
import { checkTopics } from "./topics_check.ts";
import { createStoreReads } from "./store_reads.ts";
import { createWorker, type Worker } from "./worker.ts";

/** What a service is built from. */
export interface ServiceDeps {
  kafka: Kafka;
  /** A connected admin client (the caller owns it). */
  admin: Admin;
  /** The consumer's settings, topics and lag monitor settings (`config.ts`). */
  config: ServiceConfig;
  registry: Registry;
  /** The service's metrics, on `registry` (main.ts also feeds them from the Kafka client). */
  metrics: ConsumerMetrics;
  /** How results, dead letters, forwards and changelog records are compressed (default none). */
  compression?: CompressionTypes;
  faults?: FaultInjector;
}

/** A wired consumer service. */
export interface ConsumerService {
  worker: Worker;
  /** Reads of the task stores for the HTTP server (`store_reads.ts`). */
  storeReads: (request: Request) => Promise<Response>;
  metrics: ConsumerMetrics;
  /** Present when the lag monitor is enabled. */
  lag?: LagMonitor;
}

/** A restore that reads nothing new for this long fails (and is retried). */
const RESTORE_STALL_TIMEOUT_MS = 60_000;

/** Partition counts of the topics the tasks write, read once at start. */
async function countPartitions(admin: Admin, names: string[]): Promise<Map<string, number>> {
  const { topics } = await admin.fetchTopicMetadata({ topics: names });
  const counts = new Map(topics.map((t) => [t.name, t.partitions.length]));
  const empty = names.filter((name) => !counts.get(name));
  if (empty.length > 0) throw new Error(`the topics ${empty.join(", ")} must exist`);
  return counts;
}

/** The group consumer: one member of the task group, speaking the task assignor. */
function groupConsumer(
  kafka: Kafka,
  config: ServiceConfig,
  metrics: ConsumerMetrics,
  memberInfo: () => MemberInfo,
) {
  const consumer = kafka.consumer({
    groupId: config.consumerGroupId,
    sessionTimeout: config.sessionTimeoutMs,
    // A member learns of a rebalance at its next heartbeat: every second (rather than
    // Kafka's default 3 s) bounds how long a hand-over waits for the remaining members
    // to rejoin (the bench's hand-over rows varied from 0.2 to 2.8 s with 3 s).
    heartbeatInterval: Math.min(1000, Math.floor(config.sessionTimeoutMs / 3)),
    maxWaitTimeInMs: 500,
    readUncommitted: false,
    partitionAssigners: [
      taskAssignor({ topics: config.topics, standbyReplicas: config.standbyReplicas, memberInfo }),
    ],
  });
  instrumentConsumer(consumer, metrics);
  return consumer;
}

/** The two task kinds with their processors; `partitions` is filled at start. */
function kindsOf(deps: ServiceDeps, partitions: OutputPartitions, logger: Logger): TaskKinds {
  const { config, metrics } = deps;
  const { topics } = config;
  return taskKinds(topics, {
    payments: createPaymentProcessor({
      topics,
      partitions,
      attempt: createAttempts({
        settings: config,
        metrics,
        topic: topics.requests,
        logger,
        ...(deps.faults ? { faults: deps.faults } : {}),
      }),
      recent: new RecentClaims(config.dedupWindow),
    }),
    customers: createCustomerProcessor({ topics, partitions, rules: config.rules }),
  });
}

/** A task's transactional producer (one per task, fencing the task's previous owner). */
function taskProducer(kafka: Kafka, config: ServiceConfig) {
  return (transactionalId: string, partitioner: ICustomPartitioner) =>
    kafka.producer({
      transactionalId,
      idempotent: true,
      maxInFlightRequests: 1,
      transactionTimeout: config.transactionTimeoutMs,
      retry: {
        initialRetryTime: config.transactionRetry.initialRetryTimeMs,
        retries: config.transactionRetry.retries,
      },
      createPartitioner: partitioner,
    });
}

/** Checks the topics before the worker joins, and reads the partition counts the tasks write to. */
function topicsPreparation(
  admin: Admin,
  config: ServiceConfig,
  partitions: OutputPartitions,
  logger: Logger,
) {
  const { topics } = config;
  return async () => {
    const warnings = await checkTopics(admin, { topics, retentionMs: config.dedupRetentionMs });
    for (const warning of warnings) logger.warn(warning);
    const counts = await countPartitions(admin, [topics.results, topics.dlq, topics.byCustomer]);
    partitions.results = counts.get(topics.results)!;
    partitions.dlq = counts.get(topics.dlq)!;
    partitions.byCustomer = counts.get(topics.byCustomer)!;
  };
}

/** The lag monitor of both input topics, when enabled. */
function lagMonitorOf(deps: ServiceDeps): LagMonitor | undefined {
  const { config, admin, registry } = deps;
  if (!config.lagMonitor.enabled) return undefined;
  return createLagMonitor({
    admin,
    groupId: config.consumerGroupId,
    topics: [config.topics.requests, config.topics.byCustomer],
    registry,
    intervalMs: config.lagMonitor.intervalMs,
    logger: getLogger(["payments", "consumer", "lag"]),
  });
}

/**
 * Builds a consumer service; nothing connects until `worker.start()` / `lag.start()`.
 * The group consumer's assignor and the standbys read each other's state lazily, at
 * each join, so they are wired before both exist.
 */
export function createConsumerService(deps: ServiceDeps): ConsumerService {
  const { kafka, admin, config, metrics } = deps;
  const { topics, consumerGroupId: groupId } = config;
  const logger = getLogger(["payments", "consumer"]);
  const stateLogger = getLogger(["payments", "consumer", "state"]);
  // Read at every join, once the worker and standbys below exist.
  const memberInfo = (): MemberInfo => {
    const owned = noTasks();
    for (const t of worker.assigned()) owned[t.kind].push(t.partition);
    const warm = localStores(config.stateDir, groupId, kinds);
    for (const t of standbys.held()) warm[t.kind].push(t.partition);
    return { endpoint: config.advertisedUrl, owned, warm };
  };
  // Results and dead letters go to the partition numbered like the request's, forwards
  // to the customer's partition: the counts are read at start.
  const partitions: OutputPartitions = { results: 0, dlq: 0, byCustomer: 0 };
  const kinds = kindsOf(deps, partitions, logger);
  // Private groups: these read changelogs beside the group, never commit offsets.
  const changelogReader = (group: string) =>
    kafka.consumer({
      groupId: group,
      sessionTimeout: 30_000,
      maxWaitTimeInMs: 100,
      readUncommitted: false,
    });
  const checker = createStoreChecker();
  const standbys: Standbys = createStandbys({
    kinds,
    consumer: changelogReader(`${groupId}.standby.${crypto.randomUUID()}`),
    openStore: (id: TaskId) =>
      openTaskStore(kinds[id.kind] as TaskKind, {
        stateDir: config.stateDir,
        groupId,
        partition: id.partition,
        retentionMs: config.dedupRetentionMs,
        checker,
        metrics,
        logger: stateLogger,
      }),
    offsets: (topic) => topicOffsets(admin, topic),
    isActive: (id) => tasks.isActive(id),
    metrics,
    logger: stateLogger,
  });
  const tasks = createTaskManager({
    kinds,
    createProducer: taskProducer(kafka, config),
    admin,
    groupId,
    stateDir: config.stateDir,
    retentionMs: config.dedupRetentionMs,
    checker,
    restore: (kind, requests) =>
      restoreFromChangelog(
        {
          createConsumer: changelogReader,
          topic: kind.changelogTopic,
          groupPrefix: `${groupId}.restore`,
          stallTimeoutMs: RESTORE_STALL_TIMEOUT_MS,
        },
        kind.readChangelog,
        requests,
      ),
    report: createCommitReporter({ metrics, logger, topic: topics.requests }),
    standbys,
    metrics,
    logger: stateLogger,
    ...(deps.compression === undefined ? {} : { compression: deps.compression }),
  });
  const worker = createWorker({
    consumer: groupConsumer(kafka, config, metrics, memberInfo),
    admin,
    tasks,
    kinds,
    standbys,
    prepareTopics: topicsPreparation(admin, config, partitions, logger),
    topics,
    groupId,
    settings: config,
    metrics,
    logger,
  });
  const lag = lagMonitorOf(deps);
  const storeReads = createStoreReads({
    active: (id) => tasks.store(id),
    standby: (id) => standbys.store(id),
  });
  return { worker, storeReads, metrics, ...(lag ? { lag } : {}) };
}
