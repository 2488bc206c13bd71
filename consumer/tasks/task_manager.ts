/**
 * The task manager (Kafka Streams' TaskManager): the partitions this worker owns, from
 * assignment to release, each as a {@linkcode PartitionTask}. Preparing a partition
 * fences its previous owner (the partition's transactional producer initialises,
 * which aborts or completes whatever transaction a zombie left open), opens its
 * store, reads the changelog from the store's checkpoint up to the end (one restore
 * for every partition of an assignment) and primes the velocity view from the store.
 * Only then is the partition processed.
 *
 * @module
 */
import type { Admin, Producer } from "kafkajs";
import type { Logger } from "@logtape/logtape";
import type { TopicNames } from "@payments/shared/topics";
import type { ConsumerMetrics } from "../metrics.ts";
import type { RestoreCount, RestoreRequest } from "../store/changelog_restorer.ts";
import { openPartitionStore, type PartitionStore } from "../store/partition_store.ts";
import type { RecentIds } from "../store/recent_ids.ts";
import { planRestore, type RestorePlan } from "../store/restore_plan.ts";
import { topicOffsets } from "../store/topic_offsets.ts";
import { VELOCITY_HORIZON_MS, type VelocityTracker } from "../store/velocity.ts";
import type { VelocityFollower } from "../store/velocity_follower.ts";
import type { PartitionTask } from "./partition_task.ts";

/** What the task manager needs. */
export interface TaskManagerDeps {
  /** A transactional producer for one partition (not yet connected). */
  createProducer: (transactionalId: string) => Producer;
  /** The task of a prepared partition: its producer fenced the previous owner, its store is restored. */
  createTask: (partition: number, producer: Producer, store: PartitionStore) => PartitionTask;
  admin: Admin;
  groupId: string;
  topics: TopicNames;
  stateDir: string;
  retentionMs: number;
  restore: (requests: RestoreRequest[]) => Promise<Map<number, RestoreCount>>;
  follower: VelocityFollower;
  velocity: VelocityTracker;
  recent: RecentIds;
  metrics: ConsumerMetrics;
  logger: Logger;
  /** How long to wait for the velocity view of other partitions before processing. */
  velocityWaitMs: number;
  /** How often stores forget decisions past the retention. */
  purgeIntervalMs?: number;
  now?: () => number;
}

/** The tasks of the owned partitions. */
export interface TaskManager {
  /** Starts preparing newly assigned partitions, together. */
  prepare(partitions: readonly number[]): void;
  /** The partition's task, once prepared (preparing it now if nobody asked yet); rejects if that failed. */
  ready(partition: number): Promise<PartitionTask>;
  /** Gives a partition up: its task closes (producer disconnected, store closed). */
  release(partition: number, revoked: boolean): Promise<void>;
  releaseAll(): Promise<void>;
}

/** Transactional id of the producer for one input partition. */
export function transactionalIdFor(groupId: string, topic: string, partition: number): string {
  return `${groupId}.${topic}.${partition}`;
}

/** File of a partition's store: one folder per consumer group. */
export function storeFile(stateDir: string, groupId: string, topic: string, partition: number) {
  const safe = (name: string) => encodeURIComponent(name);
  return `${stateDir}/${safe(groupId)}/${safe(topic)}-${partition}.sqlite`;
}

/** A partition being restored: its fenced producer and its store. */
interface Restoring {
  partition: number;
  producer: Producer;
  store: PartitionStore;
}

/** Creates the task manager; nothing happens until `prepare` or `ready`. */
export function createTaskManager(deps: TaskManagerDeps): TaskManager {
  const { admin, topics, metrics, logger, follower, velocity } = deps;
  const now = deps.now ?? Date.now;
  const entries = new Map<number, Promise<PartitionTask>>();
  let purgeTimer: ReturnType<typeof setInterval> | undefined;
  const opened = new Map<number, PartitionTask>();

  async function fence(partition: number): Promise<Producer> {
    const producer = deps.createProducer(
      transactionalIdFor(deps.groupId, topics.requests, partition),
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

  function openStore(partition: number): PartitionStore {
    const file = storeFile(deps.stateDir, deps.groupId, topics.requests, partition);
    const { store, movedAside } = openPartitionStore({
      file,
      changelogTopic: topics.decisions,
      partition,
      retentionMs: deps.retentionMs,
    });
    if (movedAside) {
      metrics.errors.labels("state_store").inc();
      logger.warn(
        "State store {file} could not be used ({reason}): moved to {moved_to}, rebuilding from {changelog}",
        { file, reason: movedAside.reason, moved_to: movedAside.to, changelog: topics.decisions },
      );
    }
    return store;
  }

  function logRestored(owned: Restoring, plan: RestorePlan, count: RestoreCount, ms: number) {
    const seconds = ms / 1000;
    metrics.stateRestoreDuration.labels(plan.kind).observe(seconds);
    metrics.stateRestoredRecords.inc(count.records);
    metrics.stateEntries.labels(String(owned.partition)).set(owned.store.entries);
    logger.info(
      "Partition {partition} restored: {records} changelog records in {restore_ms} ms ({kind}: {reason})",
      {
        partition: owned.partition,
        records: count.records,
        unreadable: count.unreadable,
        restore_ms: Math.round(ms),
        kind: plan.kind,
        reason: plan.reason,
        entries: owned.store.entries,
        handled_up_to: owned.store.handledUpTo,
      },
    );
  }

  async function prepareAll(partitions: readonly number[]): Promise<Map<number, PartitionTask>> {
    const started = performance.now();
    follower.own(partitions);
    const fenced = await Promise.allSettled(partitions.map(fence));
    const failed = fenced.find((r) => r.status === "rejected");
    if (failed) {
      for (const r of fenced) {
        if (r.status === "fulfilled") await r.value.disconnect().catch(() => {});
      }
      metrics.errors.labels("restore").inc();
      throw failed.reason;
    }
    const producers = fenced.map((r) => (r as PromiseFulfilledResult<Producer>).value);
    const owned = new Map<number, Restoring>();
    try {
      const offsets = await topicOffsets(admin, topics.decisions);
      const plans = new Map<number, RestorePlan>();
      partitions.forEach((partition, i) => {
        const store = openStore(partition);
        owned.set(partition, { partition, producer: producers[i]!, store });
        const plan = planRestore(store, offsets.get(partition) ?? { low: 0, high: 0 });
        if (plan.kind === "reset") store.reset();
        plans.set(partition, plan);
      });
      const counts = await deps.restore(
        [...owned.values()].map(({ partition, store }) => ({
          partition,
          from: plans.get(partition)!.from,
          to: plans.get(partition)!.to,
          apply: (changes, next) => store.apply(changes, next, now()),
        })),
      );
      const ms = performance.now() - started;
      for (const entry of owned.values()) {
        for (const d of entry.store.decidedSince(now() - VELOCITY_HORIZON_MS)) {
          velocity.add(d.customerId, d.paymentId, d.createdAtMs);
        }
        logRestored(entry, plans.get(entry.partition)!, counts.get(entry.partition)!, ms);
      }
      if (!await follower.caughtUp(deps.velocityWaitMs)) {
        logger.warn(
          "The velocity view of other partitions is not caught up after {wait_ms} ms: processing anyway",
          { wait_ms: deps.velocityWaitMs },
        );
      }
      return new Map(
        [...owned.values()].map((
          { partition, producer, store },
        ) => [partition, deps.createTask(partition, producer, store)]),
      );
    } catch (error) {
      metrics.errors.labels("restore").inc();
      for (const { store } of owned.values()) store.close();
      await Promise.all(producers.map((p) => p.disconnect().catch(() => {})));
      throw error;
    }
  }

  function purge() {
    for (const { partition, store } of opened.values()) {
      try {
        const purged = store.purge(now());
        if (purged > 0) {
          metrics.stateEntries.labels(String(partition)).set(store.entries);
          logger.debug("Partition {partition} forgot {purged} decisions past the retention", {
            partition,
            purged,
          });
        }
      } catch (error) {
        logger.warn("Cannot purge the store of partition {partition}: {error}", {
          partition,
          error,
        });
      }
    }
  }

  function prepare(partitions: readonly number[]) {
    const fresh = partitions.filter((p) => !entries.has(p));
    if (fresh.length === 0) return;
    const job = prepareAll(fresh);
    for (const partition of fresh) {
      const entry = job.then((owned) => {
        const mine = owned.get(partition)!;
        opened.set(partition, mine);
        purgeTimer ??= setInterval(purge, deps.purgeIntervalMs ?? 60_000);
        return mine;
      });
      entries.set(partition, entry);
      // A failed preparation is retried by the next batch of the partition.
      entry.catch(() => {
        if (entries.get(partition) === entry) entries.delete(partition);
      });
    }
  }

  async function release(partition: number, revoked: boolean) {
    const entry = entries.get(partition);
    entries.delete(partition);
    opened.delete(partition);
    deps.recent.drop(partition);
    if (opened.size === 0 && purgeTimer !== undefined) {
      clearInterval(purgeTimer);
      purgeTimer = undefined;
    }
    if (revoked) {
      metrics.stateEntries.remove(String(partition));
      await follower.disown([partition]).catch(() => {});
    }
    if (!entry) return;
    try {
      await (await entry).close();
    } catch {
      // Preparation failed or the producer is already gone: nothing to release.
    }
  }

  return {
    prepare,
    ready(partition) {
      if (!entries.has(partition)) prepare([partition]);
      return entries.get(partition)!;
    },
    release,
    async releaseAll() {
      await Promise.all([...entries.keys()].map((p) => release(p, false)));
      if (purgeTimer !== undefined) clearInterval(purgeTimer);
      purgeTimer = undefined;
    },
  };
}
