/**
 * Making assigned tasks ready (Kafka Streams' ProcessorStateManager with its
 * StoreChangelogReader): each task's transactional producer initialises, which fences
 * its previous owner (whatever transaction a zombie left open is aborted or
 * completed); its store opens, a standby's warm store when this instance kept one,
 * else its file, checked off the event loop; the changelog is read from each store's
 * checkpoint up to its end, one restore for all the tasks of a kind in an assignment.
 * Each preparation is timed whole and by part, and logged in one line per task.
 *
 * @module
 */
import type { Admin, CompressionTypes, ICustomPartitioner, Producer } from "kafkajs";
import type { Logger } from "@logtape/logtape";
import type { ConsumerMetrics } from "../metrics.ts";
import { PartitionLeaders } from "../partition_leaders.ts";
import type { RestoreCount, RestoreRequest } from "../store/changelog_restorer.ts";
import { planRestore, type RestorePlan } from "../store/restore_plan.ts";
import type { TaskStore } from "../store/sqlite_store.ts";
import type { StoreChecker } from "../store/store_check.ts";
import { topicOffsets } from "../store/topic_offsets.ts";
import type { CommitReporter } from "./commit_report.ts";
import type { Standbys } from "./standbys.ts";
import { openTaskStore } from "./store_files.ts";
import { createTask, type Task, type TaskId } from "./task.ts";
import { type TaskKind, taskName } from "./task_kinds.ts";

/** What preparing tasks needs. */
export interface PreparationDeps {
  /**
   * A transactional producer for one task (not yet connected), routing its records with
   * `partitioner` (which learns the partitions' leaders, `partition_leaders.ts`).
   */
  createProducer: (transactionalId: string, partitioner: ICustomPartitioner) => Producer;
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
  /** A task becoming active here takes its standby's warm store over. */
  standbys?: Pick<Standbys, "take">;
  report: CommitReporter;
  metrics: ConsumerMetrics;
  logger: Logger;
  compression?: CompressionTypes;
  now: () => number;
}

/** Transactional id of the producer of one task (the payment tasks' is the single-stage worker's). */
export function transactionalIdFor(groupId: string, topic: string, partition: number): string {
  return `${groupId}.${topic}.${partition}`;
}

/** A task's fenced producer and the partition leaders it has seen. */
interface Fenced {
  producer: Producer;
  leaders: PartitionLeaders;
}

interface Restoring {
  id: TaskId;
  fenced: Fenced;
  store: TaskStore<unknown>;
  plan: RestorePlan;
}

/** The parts of a preparation, in ms. */
interface Parts {
  fence: number;
  open: number;
  changelog: number;
  total: number;
}

async function fence(deps: PreparationDeps, kind: TaskKind, id: TaskId): Promise<Fenced> {
  const leaders = new PartitionLeaders();
  const producer = deps.createProducer(
    transactionalIdFor(deps.groupId, kind.inputTopic, id.partition),
    leaders.partitioner,
  );
  try {
    await producer.connect();
    // An empty transaction initialises the producer id: this fences the previous
    // owner and aborts (or completes) whatever transaction it left open.
    await (await producer.transaction()).abort();
    return { producer, leaders };
  } catch (error) {
    await producer.disconnect().catch(() => {});
    throw error;
  }
}

/** Every task's producer fenced, or none (those that were are disconnected again). */
async function fenceAll(deps: PreparationDeps, kind: TaskKind, ids: readonly TaskId[]) {
  const fenced = await Promise.allSettled(ids.map((id) => fence(deps, kind, id)));
  const failure = fenced.find((r) => r.status === "rejected");
  if (!failure) return fenced.map((r) => (r as PromiseFulfilledResult<Fenced>).value);
  for (const r of fenced) {
    if (r.status === "fulfilled") await r.value.producer.disconnect().catch(() => {});
  }
  throw failure.reason;
}

async function openStore(deps: PreparationDeps, kind: TaskKind, id: TaskId) {
  const warm = await deps.standbys?.take(id);
  if (warm) return warm;
  return await openTaskStore(kind, {
    stateDir: deps.stateDir,
    groupId: deps.groupId,
    partition: id.partition,
    retentionMs: deps.retentionMs,
    checker: deps.checker,
    metrics: deps.metrics,
    logger: deps.logger,
  });
}

function logReady(deps: PreparationDeps, r: Restoring, count: RestoreCount, parts: Parts) {
  const { metrics } = deps;
  metrics.stateRestoreDuration.labels(r.plan.kind).observe(parts.total / 1000);
  for (const phase of ["fence", "open", "changelog"] as const) {
    metrics.stateRestorePhase.labels(r.id.kind, phase).observe(parts[phase] / 1000);
  }
  metrics.stateRestoredRecords.inc(count.records);
  metrics.stateEntries.labels(r.id.kind, String(r.id.partition)).set(r.store.entries);
  deps.logger.info(
    "Task {task} ready in {ready_ms} ms: fence {fence_ms} ms, store {open_ms} ms, " +
      "changelog {changelog_ms} ms for {records} records ({kind}: {reason})",
    {
      task: taskName(r.id),
      ready_ms: Math.round(parts.total),
      fence_ms: Math.round(parts.fence),
      open_ms: Math.round(parts.open),
      changelog_ms: Math.round(parts.changelog),
      records: count.records,
      unreadable: count.unreadable,
      kind: r.plan.kind,
      reason: r.plan.reason,
      entries: r.store.entries,
      handled_up_to: r.store.handledUpTo,
    },
  );
}

function taskOf(deps: PreparationDeps, kind: TaskKind, r: Restoring): Task {
  return createTask({
    id: r.id,
    inputTopic: kind.inputTopic,
    changelogTopic: kind.changelogTopic,
    producer: r.fenced.producer,
    leaders: r.fenced.leaders,
    store: r.store,
    processor: kind.processor,
    groupId: deps.groupId,
    report: deps.report,
    ...(deps.compression === undefined ? {} : { compression: deps.compression }),
  });
}

/**
 * Prepares the tasks `ids` of `kind` together; resolves with each by name. A failure
 * leaves nothing open (producers disconnected, stores closed) and is counted.
 */
export async function prepareTasks(
  deps: PreparationDeps,
  kind: TaskKind,
  ids: readonly TaskId[],
): Promise<Map<string, Task>> {
  const started = performance.now();
  let producers: Fenced[];
  try {
    producers = await fenceAll(deps, kind, ids);
  } catch (error) {
    deps.metrics.errors.labels("restore").inc();
    throw error;
  }
  const fencedAt = performance.now();
  const restoring: Restoring[] = [];
  try {
    const offsets = await topicOffsets(deps.admin, kind.changelogTopic);
    for (const [i, id] of ids.entries()) {
      const store = await openStore(deps, kind, id);
      const plan = planRestore(store, offsets.get(id.partition) ?? { low: 0, high: 0 });
      if (plan.kind === "reset") store.reset();
      restoring.push({ id, fenced: producers[i]!, store, plan });
    }
    const openedAt = performance.now();
    const counts = await deps.restore(
      kind,
      restoring.map(({ id, store, plan }) => ({
        partition: id.partition,
        from: plan.from,
        to: plan.to,
        apply: (changes, next) => store.apply(changes, next, deps.now()),
      })),
    );
    const end = performance.now();
    const parts = {
      fence: fencedAt - started,
      open: openedAt - fencedAt,
      changelog: end - openedAt,
      total: end - started,
    };
    const tasks = new Map<string, Task>();
    for (const r of restoring) {
      logReady(deps, r, counts.get(r.id.partition)!, parts);
      tasks.set(taskName(r.id), taskOf(deps, kind, r));
    }
    return tasks;
  } catch (error) {
    deps.metrics.errors.labels("restore").inc();
    for (const { store } of restoring) store.close();
    await Promise.all(producers.map((p) => p.producer.disconnect().catch(() => {})));
    throw error;
  }
}
