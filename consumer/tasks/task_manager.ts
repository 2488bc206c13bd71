/**
 * The task manager (Kafka Streams' TaskManager): the tasks of the partitions this
 * worker owns, from assignment to release. Preparing a task fences its previous owner
 * (the task's transactional producer initialises, which aborts or completes whatever
 * transaction a zombie left open), opens its store (a standby's warm store when this
 * instance kept one), reads the changelog from the store's checkpoint up to the end
 * (one restore for all the tasks of a kind in an assignment), and only then hands the
 * task to the batch loop. Each preparation is timed whole and by part, from
 * assignment to the task being ready.
 *
 * @module
 */
import type { Admin, CompressionTypes, Producer } from "kafkajs";
import type { Logger } from "@logtape/logtape";
import type { ConsumerMetrics } from "../metrics.ts";
import type { RestoreCount, RestoreRequest } from "../store/changelog_restorer.ts";
import { planRestore, type RestorePlan } from "../store/restore_plan.ts";
import type { TaskStore } from "../store/sqlite_store.ts";
import type { StoreChecker } from "../store/store_check.ts";
import { topicOffsets } from "../store/topic_offsets.ts";
import type { CommitReporter } from "./commit_report.ts";
import { openTaskStore, storeFile } from "./store_files.ts";
import { createTask, type Task, type TaskId } from "./task.ts";
import { type TaskKind, type TaskKinds, taskName } from "./task_kinds.ts";
import { createPurger } from "./purger.ts";
import type { Standbys } from "./standbys.ts";

export { storeFile };

/** What the task manager needs. */
export interface TaskManagerDeps {
  kinds: TaskKinds;
  /** A transactional producer for one task (not yet connected). */
  createProducer: (transactionalId: string) => Producer;
  admin: Admin;
  groupId: string;
  stateDir: string;
  retentionMs: number;
  /** Checks store files off the event loop before they are opened. */
  checker: StoreChecker;
  /** Reads changelog ranges into stores (`store/changelog_restorer.ts`). */
  restore: <Row>(
    kind: TaskKind<Row>,
    requests: RestoreRequest<Row>[],
  ) => Promise<Map<number, RestoreCount>>;
  /**
   * The standby stores of this instance: a task becoming active takes its standby's
   * warm store over; a task closing here may be kept as a standby.
   */
  standbys?: Pick<Standbys, "take" | "released">;
  report: CommitReporter;
  metrics: ConsumerMetrics;
  logger: Logger;
  compression?: CompressionTypes;
  /** How often stores forget rows past the retention. */
  purgeIntervalMs?: number;
  now?: () => number;
}

/** Where one assigned task stands. */
export interface TaskState {
  id: TaskId;
  state: "restoring" | "running" | "failed";
}

/** The tasks of the assigned partitions. */
export interface TaskManager {
  /** Starts preparing newly assigned tasks, those of a kind together. */
  prepare(ids: readonly TaskId[]): void;
  /** The task, once prepared (preparing it now if nobody asked yet); rejects if that failed. */
  ready(id: TaskId): Promise<Task>;
  /** Gives a task up: it closes (producer disconnected, store closed). */
  release(id: TaskId, revoked: boolean): Promise<void>;
  releaseAll(): Promise<void>;
  /** Releases every task and ends the store checks' thread (the worker stopped). */
  close(): Promise<void>;
  /** Every task being prepared or prepared, and how it stands. */
  states(): TaskState[];
  /** Whether the task is being prepared or runs here (its store is the task's). */
  isActive(id: TaskId): boolean;
  /** The store of a running task, for reads. */
  store(id: TaskId): TaskStore<unknown> | undefined;
}

/** Transactional id of the producer of one task (the payment tasks' is the single-stage worker's). */
export function transactionalIdFor(groupId: string, topic: string, partition: number): string {
  return `${groupId}.${topic}.${partition}`;
}

interface Restoring {
  id: TaskId;
  producer: Producer;
  store: TaskStore<unknown>;
  plan: RestorePlan;
}

/** Milliseconds since `start`. */
const since = (start: number) => performance.now() - start;

/** Creates the task manager; nothing happens until `prepare` or `ready`. */
export function createTaskManager(deps: TaskManagerDeps): TaskManager {
  const { admin, metrics, logger, kinds } = deps;
  const now = deps.now ?? Date.now;
  const entries = new Map<string, Promise<Task>>();
  const opened = new Map<string, Task>();
  const failed = new Set<string>();
  const purger = createPurger({
    tasks: () => [...opened.values()],
    intervalMs: deps.purgeIntervalMs ?? 60_000,
    metrics,
    logger,
    now,
  });

  async function fence(id: TaskId): Promise<Producer> {
    const kind = kinds[id.kind];
    const producer = deps.createProducer(
      transactionalIdFor(deps.groupId, kind.inputTopic, id.partition),
    );
    try {
      await producer.connect();
      // An empty transaction initialises the producer id: this fences the previous
      // owner and aborts (or completes) whatever transaction it left open.
      await (await producer.transaction()).abort();
      return producer;
    } catch (error) {
      await producer.disconnect().catch(() => {});
      throw error;
    }
  }

  async function openStore(id: TaskId): Promise<TaskStore<unknown>> {
    const warm = await deps.standbys?.take(id);
    if (warm) return warm;
    return openTaskStore(kinds[id.kind] as TaskKind, {
      stateDir: deps.stateDir,
      groupId: deps.groupId,
      partition: id.partition,
      retentionMs: deps.retentionMs,
      checker: deps.checker,
      metrics,
      logger,
    });
  }

  function logReady(r: Restoring, count: RestoreCount, parts: Record<string, number>) {
    const store = r.id.kind;
    const total = parts.total!;
    metrics.stateRestoreDuration.labels(r.plan.kind).observe(total / 1000);
    for (const phase of ["fence", "open", "changelog"] as const) {
      metrics.stateRestorePhase.labels(store, phase).observe(parts[phase]! / 1000);
    }
    metrics.stateRestoredRecords.inc(count.records);
    metrics.stateEntries.labels(store, String(r.id.partition)).set(r.store.entries);
    logger.info(
      "Task {task} ready in {ready_ms} ms: fence {fence_ms} ms, store {open_ms} ms, " +
        "changelog {changelog_ms} ms for {records} records ({kind}: {reason})",
      {
        task: taskName(r.id),
        ready_ms: Math.round(total),
        fence_ms: Math.round(parts.fence!),
        open_ms: Math.round(parts.open!),
        changelog_ms: Math.round(parts.changelog!),
        records: count.records,
        unreadable: count.unreadable,
        kind: r.plan.kind,
        reason: r.plan.reason,
        entries: r.store.entries,
        handled_up_to: r.store.handledUpTo,
      },
    );
  }

  async function restoreAll(kind: TaskKind, restoring: Restoring[]) {
    return await deps.restore(
      kind,
      restoring.map(({ id, store, plan }) => ({
        partition: id.partition,
        from: plan.from,
        to: plan.to,
        apply: (changes, next) => store.apply(changes, next, now()),
      })),
    );
  }

  async function prepareKind(kind: TaskKind, ids: readonly TaskId[]): Promise<Map<string, Task>> {
    const started = performance.now();
    const fenced = await Promise.allSettled(ids.map(fence));
    const failure = fenced.find((r) => r.status === "rejected");
    if (failure) {
      for (const r of fenced) {
        if (r.status === "fulfilled") await r.value.disconnect().catch(() => {});
      }
      metrics.errors.labels("restore").inc();
      throw failure.reason;
    }
    const producers = fenced.map((r) => (r as PromiseFulfilledResult<Producer>).value);
    const fencedAt = performance.now();
    const restoring: Restoring[] = [];
    try {
      const offsets = await topicOffsets(admin, kind.changelogTopic);
      for (const [i, id] of ids.entries()) {
        const store = await openStore(id);
        const plan = planRestore(store, offsets.get(id.partition) ?? { low: 0, high: 0 });
        if (plan.kind === "reset") store.reset();
        restoring.push({ id, producer: producers[i]!, store, plan });
      }
      const openedAt = performance.now();
      const counts = await restoreAll(kind, restoring);
      const parts = {
        fence: fencedAt - started,
        open: openedAt - fencedAt,
        changelog: since(openedAt),
        total: since(started),
      };
      const tasks = new Map<string, Task>();
      for (const r of restoring) {
        logReady(r, counts.get(r.id.partition)!, parts);
        tasks.set(
          taskName(r.id),
          createTask({
            id: r.id,
            inputTopic: kind.inputTopic,
            changelogTopic: kind.changelogTopic,
            producer: r.producer,
            store: r.store,
            processor: kind.processor,
            groupId: deps.groupId,
            report: deps.report,
            ...(deps.compression === undefined ? {} : { compression: deps.compression }),
          }),
        );
      }
      return tasks;
    } catch (error) {
      metrics.errors.labels("restore").inc();
      for (const { store } of restoring) store.close();
      await Promise.all(producers.map((p) => p.disconnect().catch(() => {})));
      throw error;
    }
  }

  function prepare(ids: readonly TaskId[]) {
    for (const kind of Object.values(kinds) as TaskKind[]) {
      const fresh = ids.filter((id) => id.kind === kind.name && !entries.has(taskName(id)));
      if (fresh.length === 0) continue;
      const job = prepareKind(kind, fresh);
      for (const id of fresh) {
        const name = taskName(id);
        failed.delete(name);
        const entry = job.then((tasks) => {
          const task = tasks.get(name)!;
          opened.set(name, task);
          purger.start();
          return task;
        });
        entries.set(name, entry);
        // A failed preparation is retried by the next batch of the partition.
        entry.catch(() => {
          if (entries.get(name) === entry) {
            entries.delete(name);
            failed.add(name);
          }
        });
      }
    }
  }

  async function release(id: TaskId, revoked: boolean) {
    const name = taskName(id);
    const entry = entries.get(name);
    entries.delete(name);
    opened.delete(name);
    failed.delete(name);
    kinds[id.kind].processor.forget?.(id.partition);
    if (opened.size === 0) purger.stop();
    if (revoked) metrics.stateEntries.remove(id.kind, String(id.partition));
    if (!entry) return;
    try {
      await (await entry).close();
    } catch {
      // Preparation failed or the producer is already gone: nothing to release.
    }
    await deps.standbys?.released(id);
  }

  return {
    prepare,
    ready(id) {
      if (!entries.has(taskName(id))) prepare([id]);
      return entries.get(taskName(id))!;
    },
    release,
    async close() {
      await this.releaseAll();
      deps.checker.close();
    },
    async releaseAll() {
      const all = [...entries.keys(), ...failed].map((name) => {
        const [kind, partition] = name.split("-") as [TaskId["kind"], string];
        return { kind, partition: Number(partition) };
      });
      await Promise.all(all.map((id) => release(id, false)));
      purger.stop();
    },
    isActive(id) {
      return entries.has(taskName(id));
    },
    store(id) {
      return opened.get(taskName(id))?.store as TaskStore<unknown> | undefined;
    },
    states() {
      const states: TaskState[] = [];
      for (const name of new Set([...entries.keys(), ...failed])) {
        const [kind, partition] = name.split("-") as [TaskId["kind"], string];
        const id = { kind, partition: Number(partition) };
        states.push({
          id,
          state: opened.has(name) ? "running" : failed.has(name) ? "failed" : "restoring",
        });
      }
      return states;
    },
  };
}
