/**
 * The payment worker: the kafkajs consumer group member. It keeps the membership and
 * runs the batch loop, nothing else: the group assigns it partitions of the two input
 * topics, `payment_requests` (payment tasks) and `payment_requests.by_customer`
 * (customer tasks); the task manager (`tasks/task_manager.ts`) prepares and releases
 * their tasks as they come and go; each fetched batch is cut into transactions' worth
 * of records and handed to its task (`tasks/task.ts`), which answers and commits them.
 *
 * Exactly once: each task has its own transactional producer, which fences any
 * earlier owner; its outputs, changelog records and the consumed offset go in one
 * transaction, and its store is updated only after it committed. Records the store
 * says were answered already (by a fenced predecessor whose commit landed after our
 * offsets were read) are skipped.
 *
 * @module
 */
import type { Admin, Consumer, EachBatchPayload } from "kafkajs";
import { describeTaskGroup, TASK_KINDS } from "@payments/shared/task_group";
import type { Logger } from "@logtape/logtape";
import type { TopicNames } from "@payments/shared/topics";
import type { ConsumerSettings } from "./config.ts";
import { createCrashHandler, describeCrashCause } from "./crash.ts";
import type { ConsumerMetrics } from "./metrics.ts";
import type { WorkerState, WorkerStatus } from "./status.ts";
import { HEARTBEAT_EVERY_MS } from "./tasks/chunk.ts";
import type { Standbys } from "./tasks/standbys.ts";
import type { TaskId } from "./tasks/task.ts";
import { kindOfTopic, type TaskKinds, taskName } from "./tasks/task_kinds.ts";
import type { TaskManager } from "./tasks/task_manager.ts";

export { TransientError } from "@payments/shared/kafka_errors";
export type { FaultInjector } from "./attempts.ts";
export type { WorkerStatus } from "./status.ts";
export { transactionalIdFor } from "./tasks/task_manager.ts";

/** Everything the worker needs. */
export interface WorkerDeps {
  consumer: Consumer;
  admin: Admin;
  tasks: TaskManager;
  kinds: TaskKinds;
  /** Checks the topics and reads what the tasks need of them before the worker joins (throws to refuse). */
  prepareTopics: () => Promise<void>;
  topics: TopicNames;
  groupId: string;
  settings: ConsumerSettings;
  metrics: ConsumerMetrics;
  logger: Logger;
  /** The standby stores, told after every join which tasks the group wants kept warm here. */
  standbys?: Standbys;
  sleep?: (ms: number) => Promise<void>;
}

/** The worker as main.ts and the HTTP server see it. */
export interface Worker {
  start(): Promise<void>;
  /** Stops fetching, finishes in-flight batches, leaves the group, disconnects. */
  stop(): Promise<void>;
  status(): WorkerStatus;
  /** The tasks assigned here in the current generation. */
  assigned(): readonly TaskId[];
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Heartbeats while `work` runs (a restore can outlast the session timeout). Resolves
 * as soon as `work` does: a task already prepared costs nothing here.
 */
async function heartbeating<T>(work: Promise<T>, heartbeat: () => Promise<void>): Promise<T> {
  const timer = setInterval(() => void heartbeat().catch(() => {}), HEARTBEAT_EVERY_MS);
  try {
    return await work;
  } finally {
    clearInterval(timer);
  }
}

const sameTask = (a: TaskId) => (b: TaskId) => a.kind === b.kind && a.partition === b.partition;

/** Creates the worker; nothing happens until `start()`. */
export function createWorker(deps: WorkerDeps): Worker {
  const { consumer, admin, tasks, topics, groupId, settings, metrics, logger, kinds } = deps;
  const sleep = deps.sleep ?? defaultSleep;
  let assigned: TaskId[] = [];
  let state: WorkerState = "starting";
  let memberId: string | undefined;
  let lastKafkaContact: number | undefined;
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
    const kind = kindOfTopic(kinds, batch.topic);
    if (!kind) return;
    const id: TaskId = { kind, partition: batch.partition };
    touch();
    let task;
    try {
      task = await heartbeating(tasks.ready(id), heartbeat);
    } catch (error) {
      logger.error("Cannot prepare task {task}: {reason}", {
        task: taskName(id),
        reason: describeCrashCause(error),
      });
      await sleep(settings.retryBackoffMs);
      return; // nothing resolved: the same records are fetched again
    }
    const messages = batch.messages;
    const step = settings.maxRecordsPerTransaction;
    for (let i = 0; i < messages.length; i += step) {
      if (!isRunning() || isStale()) return;
      const chunk = messages.slice(i, i + step);
      const lastChunk = i + step >= messages.length;
      const outcome = await task.process(
        chunk,
        heartbeat,
        lastChunk ? Number(batch.lastOffset()) : undefined,
      );
      if (outcome.kind === "failed") {
        // Nothing resolved: kafkajs fetches these records again once the task is
        // prepared anew; if the partition moved, the heartbeat makes this member rejoin.
        await tasks.release(id, false);
        await sleep(settings.retryBackoffMs);
        await heartbeat();
        return;
      }
      touch();
      resolveOffset(String(outcome.last));
      if (outcome.kind === "store_behind") {
        await tasks.release(id, false);
        return;
      }
      await heartbeat();
    }
  }

  function onAssignment(next: TaskId[]) {
    const revoked = assigned.filter((t) => !next.some(sameTask(t)));
    const added = next.filter((t) => !assigned.some(sameTask(t)));
    if (revoked.length > 0) metrics.rebalances.labels("revoke").inc();
    metrics.rebalances.labels("assign").inc();
    assigned = next;
    metrics.activePartitions.set(next.filter((t) => t.kind === "payments").length);
    state = next.length > 0 ? "assigned" : "waiting";
    for (const id of revoked) void tasks.release(id, true);
    if (added.length > 0) tasks.prepare(added);
    void learnStandbys();
    logger.info("Rebalance: assigned {assigned}, added {added}, revoked {revoked}", {
      assigned: next.map(taskName),
      added: added.map(taskName),
      revoked: revoked.map(taskName),
      member_id: memberId,
    });
  }

  /**
   * The standbys the group's leader handed this member, read back from the group's own
   * description (kafkajs keeps an assignment's user data to itself); retried while the
   * group is still completing the rebalance.
   */
  async function learnStandbys() {
    const standbys = deps.standbys;
    if (!standbys || settings.standbyReplicas === 0) return;
    for (let attempt = 0; attempt < 20 && state !== "stopped"; attempt++) {
      try {
        const view = await describeTaskGroup(admin, groupId, topics);
        const me = view.members.find((m) => m.memberId === memberId);
        if (view.state === "Stable" && me) {
          const ids = TASK_KINDS.flatMap((kind) =>
            me.standby[kind].map((partition) => ({ kind, partition }))
          );
          await standbys.want(ids);
          return;
        }
      } catch (error) {
        logger.debug("Cannot read the group's standbys yet: {error}", { error });
      }
      await sleep(250);
    }
  }

  // start() may be retried after Kafka was unreachable: listen only once.
  let listening = false;
  function listen() {
    if (listening) return;
    listening = true;
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      memberId = payload.memberId;
      touch();
      const ids: TaskId[] = [];
      for (const kind of ["payments", "customers"] as const) {
        const partitions = payload.memberAssignment[kinds[kind].inputTopic] ?? [];
        for (const partition of [...partitions].sort((a, b) => a - b)) {
          ids.push({ kind, partition });
        }
      }
      onAssignment(ids);
    });
    consumer.on(consumer.events.HEARTBEAT, touch);
    consumer.on(consumer.events.FETCH, touch);
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      state = onCrash(payload);
    });
    consumer.on(consumer.events.REBALANCING, () => {
      if (state === "waiting" || state === "assigned" || state === "joining") state = "rebalancing";
      logger.info("Group {group} is rebalancing", { group: groupId });
    });
  }

  return {
    async start() {
      listen();
      await deps.prepareTopics();
      await consumer.connect();
      await consumer.subscribe({
        topics: [kinds.payments.inputTopic, kinds.customers.inputTopic],
        fromBeginning: true,
      });
      state = "joining";
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
      await deps.standbys?.stop();
      await tasks.close();
      assigned = [];
      metrics.activePartitions.set(0);
    },
    status() {
      const states = new Map(tasks.states().map((t) => [taskName(t.id), t.state]));
      return {
        state,
        assignedPartitions: assigned.filter((t) => t.kind === "payments").map((t) => t.partition),
        assignedTasks: assigned.map((t) => ({
          ...t,
          state: states.get(taskName(t)) ?? "restoring",
        })),
        standbyTasks: deps.standbys?.held() ?? [],
        ...(memberId ? { memberId } : {}),
        ...(lastKafkaContact ? { lastKafkaContact } : {}),
      };
    },
    assigned() {
      return assigned;
    },
  };
}
