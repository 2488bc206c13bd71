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
  /**
   * Undoes a start() that failed the way stop() does, but the worker says "starting"
   * until the next start(): main.ts retries, and /ready must not say it stopped.
   */
  abandonStart(): Promise<void>;
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
  return new PaymentWorker(deps);
}

/** The group member: membership, assignments and the batch loop. */
class PaymentWorker implements Worker {
  readonly #deps: WorkerDeps;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #onCrash: ReturnType<typeof createCrashHandler>;
  #assigned: TaskId[] = [];
  #state: WorkerState = "starting";
  #memberId: string | undefined;
  #lastKafkaContact: number | undefined;
  // start() may be retried after Kafka was unreachable: listen only once.
  #listening = false;

  constructor(deps: WorkerDeps) {
    this.#deps = deps;
    this.#sleep = deps.sleep ?? defaultSleep;
    this.#onCrash = createCrashHandler({
      admin: deps.admin,
      topic: deps.topics.requests,
      groupId: deps.groupId,
      errors: deps.metrics.errors,
      logger: deps.logger,
    });
  }

  async start(): Promise<void> {
    const { consumer, kinds, settings } = this.#deps;
    this.#state = "starting";
    this.#listen();
    await this.#deps.prepareTopics();
    await consumer.connect();
    await consumer.subscribe({
      topics: [kinds.payments.inputTopic, kinds.customers.inputTopic],
      fromBeginning: true,
    });
    this.#state = "joining";
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: settings.partitionsConsumedConcurrently,
      eachBatch: (payload) => this.#eachBatch(payload),
    });
  }

  async stop(): Promise<void> {
    await this.#leave();
    this.#state = "stopped";
  }

  async abandonStart(): Promise<void> {
    await this.#leave();
    this.#state = "starting";
  }

  // Arrow functions: main.ts and the HTTP server hold these without the worker.
  readonly status = (): WorkerStatus => {
    const states = new Map(this.#deps.tasks.states().map((t) => [taskName(t.id), t.state]));
    return {
      state: this.#state,
      assignedPartitions: this.#assigned.filter((t) => t.kind === "payments").map((t) =>
        t.partition
      ),
      assignedTasks: this.#assigned.map((t) => ({
        ...t,
        state: states.get(taskName(t)) ?? "restoring",
      })),
      standbyTasks: this.#deps.standbys?.held() ?? [],
      ...(this.#memberId ? { memberId: this.#memberId } : {}),
      ...(this.#lastKafkaContact ? { lastKafkaContact: this.#lastKafkaContact } : {}),
    };
  };

  readonly assigned = (): readonly TaskId[] => this.#assigned;

  /** Leaves the group, disconnects, and closes the standbys and the tasks. */
  async #leave() {
    const { consumer, standbys, tasks, metrics } = this.#deps;
    await consumer.stop();
    await consumer.disconnect();
    this.#state = "stopped";
    await standbys?.stop();
    await tasks.close();
    this.#assigned = [];
    metrics.activePartitions.set(0);
  }

  #touch() {
    this.#lastKafkaContact = Date.now();
  }

  /** One fetched batch of one task: cut into transactions' worth, each answered and committed. */
  async #eachBatch(payload: EachBatchPayload): Promise<void> {
    const { batch, resolveOffset, heartbeat, isRunning, isStale } = payload;
    const { tasks, settings } = this.#deps;
    const kind = kindOfTopic(this.#deps.kinds, batch.topic);
    if (!kind) return;
    const id: TaskId = { kind, partition: batch.partition };
    this.#touch();
    const task = await this.#ready(id, heartbeat);
    if (!task) return; // nothing resolved: the same records are fetched again
    const messages = batch.messages;
    const step = settings.maxRecordsPerTransaction;
    for (let i = 0; i < messages.length; i += step) {
      if (!isRunning() || isStale()) return;
      const lastChunk = i + step >= messages.length;
      const outcome = await task.process(
        messages.slice(i, i + step),
        heartbeat,
        lastChunk ? Number(batch.lastOffset()) : undefined,
      );
      if (outcome.kind === "failed") {
        // Nothing resolved: kafkajs fetches these records again once the task is
        // prepared anew; if the partition moved, the heartbeat makes this member rejoin.
        await tasks.release(id, false);
        await this.#sleep(settings.retryBackoffMs);
        await heartbeat();
        return;
      }
      this.#touch();
      resolveOffset(String(outcome.last));
      if (outcome.kind === "store_behind") {
        await tasks.release(id, false);
        return;
      }
      await heartbeat();
    }
  }

  /** The task of `id` once prepared, or undefined (logged, after a pause) when it cannot be. */
  async #ready(id: TaskId, heartbeat: () => Promise<void>) {
    try {
      return await heartbeating(this.#deps.tasks.ready(id), heartbeat);
    } catch (error) {
      this.#deps.logger.error("Cannot prepare task {task}: {reason}", {
        task: taskName(id),
        reason: describeCrashCause(error),
      });
      await this.#sleep(this.#deps.settings.retryBackoffMs);
      return undefined;
    }
  }

  #onAssignment(next: TaskId[]) {
    const { metrics, tasks, logger } = this.#deps;
    const revoked = this.#assigned.filter((t) => !next.some(sameTask(t)));
    const added = next.filter((t) => !this.#assigned.some(sameTask(t)));
    if (revoked.length > 0) metrics.rebalances.labels("revoke").inc();
    metrics.rebalances.labels("assign").inc();
    this.#assigned = next;
    metrics.activePartitions.set(next.filter((t) => t.kind === "payments").length);
    this.#state = next.length > 0 ? "assigned" : "waiting";
    for (const id of revoked) void tasks.release(id, true);
    if (added.length > 0) tasks.prepare(added);
    void this.#learnStandbys();
    logger.info("Rebalance: assigned {assigned}, added {added}, revoked {revoked}", {
      assigned: next.map(taskName),
      added: added.map(taskName),
      revoked: revoked.map(taskName),
      member_id: this.#memberId,
    });
  }

  /**
   * The standbys the group's leader handed this member, read back from the group's own
   * description (kafkajs keeps an assignment's user data to itself); retried while the
   * group is still completing the rebalance.
   */
  async #learnStandbys() {
    const { standbys, settings, admin, groupId, topics, logger } = this.#deps;
    if (!standbys || settings.standbyReplicas === 0) return;
    for (let attempt = 0; attempt < 20 && this.#state !== "stopped"; attempt++) {
      try {
        const view = await describeTaskGroup(admin, groupId, topics);
        const me = view.members.find((m) => m.memberId === this.#memberId);
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
      await this.#sleep(250);
    }
  }

  #listen() {
    if (this.#listening) return;
    this.#listening = true;
    const { consumer, kinds, groupId, logger } = this.#deps;
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      this.#memberId = payload.memberId;
      this.#touch();
      const ids: TaskId[] = [];
      for (const kind of TASK_KINDS) {
        const partitions = payload.memberAssignment[kinds[kind].inputTopic] ?? [];
        for (const partition of [...partitions].sort((a, b) => a - b)) {
          ids.push({ kind, partition });
        }
      }
      this.#onAssignment(ids);
    });
    consumer.on(consumer.events.HEARTBEAT, () => this.#touch());
    consumer.on(consumer.events.FETCH, () => this.#touch());
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      this.#state = this.#onCrash(payload);
    });
    consumer.on(consumer.events.REBALANCING, () => {
      const s = this.#state;
      if (s === "waiting" || s === "assigned" || s === "joining") this.#state = "rebalancing";
      logger.info("Group {group} is rebalancing", { group: groupId });
    });
  }
}
