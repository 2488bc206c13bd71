/**
 * The payment worker: the kafkajs consumer group member. It keeps the membership and
 * runs the batch loop: each fetched batch is cut into transactions' worth of records
 * and handed to the partition's task (`tasks/partition_task.ts`), which answers and
 * commits them; the task manager (`tasks/task_manager.ts`) prepares and releases the
 * tasks as the group assigns and revokes partitions.
 *
 * Exactly once: each assigned partition's task has its own transactional producer,
 * which fences any earlier owner; answers, changelog records and the consumed offset
 * go in one transaction, and the store is updated only after it committed. Records
 * the store says were answered already (by a fenced predecessor whose commit landed
 * after our offsets were read) are skipped.
 *
 * @module
 */
import type { Admin, Consumer, EachBatchPayload } from "kafkajs";
import type { Logger } from "@logtape/logtape";
import type { TopicNames } from "@payments/shared/topics";
import type { ConsumerSettings } from "./config.ts";
import { createCrashHandler, describeCrashCause } from "./crash.ts";
import type { ConsumerMetrics } from "./metrics.ts";
import type { WorkerState, WorkerStatus } from "./status.ts";
import type { VelocityFollower } from "./store/velocity_follower.ts";
import { HEARTBEAT_EVERY_MS } from "./tasks/partition_task.ts";
import type { TaskManager } from "./tasks/task_manager.ts";

export { TransientError } from "@payments/shared/kafka_errors";
export type { FaultInjector } from "./attempts.ts";
export { transactionalIdFor } from "./tasks/task_manager.ts";

/** Everything the worker needs. */
export interface WorkerDeps {
  consumer: Consumer;
  admin: Admin;
  tasks: TaskManager;
  follower: VelocityFollower;
  /** Filled at start with the partition counts of the results and DLQ topics (answers need them). */
  partitionCounts: { results: number; dlq: number };
  /** Checks the topics the worker needs before it joins the group (throws to refuse). */
  checkTopics: () => Promise<void>;
  topics: TopicNames;
  groupId: string;
  settings: ConsumerSettings;
  metrics: ConsumerMetrics;
  logger: Logger;
  sleep?: (ms: number) => Promise<void>;
}

/** The worker as main.ts and the HTTP server see it. */
export interface Worker {
  start(): Promise<void>;
  /** Stops fetching, finishes in-flight batches, leaves the group, disconnects. */
  stop(): Promise<void>;
  status(): WorkerStatus;
}

export type { WorkerStatus } from "./status.ts";

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Heartbeats while `work` runs (a restore can outlast the session timeout). Resolves
 * as soon as `work` does: a partition already prepared costs nothing here.
 */
async function heartbeating<T>(work: Promise<T>, heartbeat: () => Promise<void>): Promise<T> {
  const timer = setInterval(() => void heartbeat().catch(() => {}), HEARTBEAT_EVERY_MS);
  try {
    return await work;
  } finally {
    clearInterval(timer);
  }
}

/** Creates the worker; nothing happens until `start()`. */
export function createWorker(deps: WorkerDeps): Worker {
  const { consumer, admin, tasks, topics, groupId, settings, metrics, logger } = deps;
  const sleep = deps.sleep ?? defaultSleep;
  let assigned: number[] = [];
  let state: WorkerState = "starting";
  let memberId: string | undefined;
  let lastKafkaContact: number | undefined;
  const partitionCounts = deps.partitionCounts;
  const touch = () => lastKafkaContact = Date.now();
  const onCrash = createCrashHandler({
    admin,
    topic: topics.requests,
    groupId,
    errors: metrics.errors,
    logger,
  });

  async function eachBatch(payload: EachBatchPayload): Promise<void> {
    const { batch, resolveOffset, heartbeat, isRunning, isStale } = payload;
    const partition = batch.partition;
    touch();
    let task;
    try {
      task = await heartbeating(tasks.ready(partition), heartbeat);
    } catch (error) {
      logger.error("Cannot prepare partition {partition}: {reason}", {
        partition,
        reason: describeCrashCause(error),
      });
      await sleep(settings.retryBackoffMs);
      return; // nothing resolved: the same records are fetched again
    }
    const messages = batch.messages;
    for (let i = 0; i < messages.length; i += settings.maxRecordsPerTransaction) {
      if (!isRunning() || isStale()) return;
      const chunk = messages.slice(i, i + settings.maxRecordsPerTransaction);
      const outcome = await task.process(chunk, heartbeat);
      if (outcome.kind === "failed") {
        // Nothing resolved: kafkajs fetches these records again once the partition is
        // prepared anew; if the partition moved, the heartbeat makes this member rejoin.
        await tasks.release(partition, false);
        await sleep(settings.retryBackoffMs);
        await heartbeat();
        return;
      }
      touch();
      resolveOffset(String(outcome.last));
      if (outcome.kind === "store_behind") {
        await tasks.release(partition, false);
        return;
      }
      await heartbeat();
    }
  }

  function onAssignment(next: number[]) {
    const revoked = assigned.filter((p) => !next.includes(p));
    const added = next.filter((p) => !assigned.includes(p));
    if (revoked.length > 0) metrics.rebalances.labels("revoke").inc();
    metrics.rebalances.labels("assign").inc();
    assigned = next;
    metrics.activePartitions.set(next.length);
    state = next.length > 0 ? "assigned" : "waiting";
    for (const partition of revoked) void tasks.release(partition, true);
    if (added.length > 0) tasks.prepare(added);
    logger.info("Rebalance: assigned {assigned}, added {added}, revoked {revoked}", {
      assigned: next,
      added,
      revoked,
      member_id: memberId,
    });
  }

  // start() may be retried after Kafka was unreachable: listen only once.
  let listening = false;
  function listen() {
    if (listening) return;
    listening = true;
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      memberId = payload.memberId;
      touch();
      const mine = payload.memberAssignment[topics.requests] ?? [];
      onAssignment([...mine].sort((a, b) => a - b));
    });
    consumer.on(consumer.events.HEARTBEAT, touch);
    consumer.on(consumer.events.FETCH, touch);
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      state = onCrash(payload);
    });
    consumer.on(consumer.events.REBALANCING, () => {
      logger.info("Group {group} is rebalancing", { group: groupId });
    });
  }

  async function countPartitions() {
    const { topics: meta } = await admin.fetchTopicMetadata({
      topics: [topics.results, topics.dlq],
    });
    const count = (name: string) => meta.find((t) => t.name === name)?.partitions.length ?? 0;
    partitionCounts.results = count(topics.results);
    partitionCounts.dlq = count(topics.dlq);
    if (partitionCounts.results === 0 || partitionCounts.dlq === 0) {
      throw new Error(`the topics ${topics.results} and ${topics.dlq} must exist`);
    }
  }

  return {
    async start() {
      listen();
      await deps.checkTopics();
      await countPartitions();
      await deps.follower.start();
      await consumer.connect();
      await consumer.subscribe({ topics: [topics.requests], fromBeginning: true });
      state = "waiting";
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: settings.partitionsConsumedConcurrently,
        eachBatch,
      });
    },
    async stop() {
      await consumer.stop();
      await consumer.disconnect();
      state = "stopped";
      await tasks.releaseAll();
      assigned = [];
      metrics.activePartitions.set(0);
      await deps.follower.stop();
    },
    status() {
      return {
        state,
        assignedPartitions: [...assigned],
        ...(memberId ? { memberId } : {}),
        ...(lastKafkaContact ? { lastKafkaContact } : {}),
      };
    },
  };
}
