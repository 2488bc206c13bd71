/**
 * Where the stores are: the consumer group as its coordinator last described it (who
 * owns each task, who keeps a standby of it, where each member answers reads) and the
 * partition counts that place a key in a task. Asking Kafka for each status read would
 * put a DescribeGroups round trip on every read and load the coordinator with the
 * read rate, so the answer is cached:
 *
 * - a snapshot younger than `maxAgeMs` (1 s) is used as it is;
 * - an older one is still used, while one refresh runs in the background, so a read
 *   never waits for Kafka because a second went by (a wrong owner answers 421 anyway);
 * - a snapshot a reader found wrong (421, owner unreachable, no owner) is dropped with
 *   {@linkcode OwnerDirectory.invalidate}: the next read waits for a fresh one, and
 *   every read that saw the same wrong snapshot shares that one refresh.
 *
 * Kafka is asked at most once per `maxAgeMs` in the background; a load that failed is
 * the answer of every reader who needs a fresh snapshot for `retryMs` (250 ms), so a
 * broker that refuses at once never sees one describe per read.
 *
 * @module
 */
import type { TaskGroupView } from "@payments/shared/task_group";

/** The group and the partition counts that place a payment or a customer in a task. */
export interface GroupSnapshot {
  view: TaskGroupView;
  /** Partitions of `payment_requests` (payment tasks) and of the repartition topic (customer tasks). */
  partitions: { payments: number; customers: number };
}

/** What the directory needs. */
export interface OwnerDirectoryDeps {
  /** Reads the group and the partition counts from Kafka (`group_source.ts`). */
  load: () => Promise<GroupSnapshot>;
  /** Monotonic milliseconds (default `performance.now`). */
  now?: () => number;
  /** Age after which a snapshot is refreshed in the background (default 1000 ms). */
  maxAgeMs?: number;
  /** How long a failed load answers for itself before Kafka is asked again (default 250 ms). */
  retryMs?: number;
}

/** The cached group; see the module documentation. */
export interface OwnerDirectory {
  /** The current snapshot; waits for Kafka only when there is none or it was dropped. */
  snapshot(): Promise<GroupSnapshot>;
  /** Drops `seen` if it is still the current snapshot (a newer one is kept). */
  invalidate(seen: GroupSnapshot): void;
}

/** Creates a directory over `deps.load`. */
export function createOwnerDirectory(deps: OwnerDirectoryDeps): OwnerDirectory {
  const now = deps.now ?? (() => performance.now());
  const maxAgeMs = deps.maxAgeMs ?? 1000;
  const retryMs = deps.retryMs ?? 250;
  // Each invalidation starts a generation; a snapshot loaded in an older one is never
  // served again, even if its load finishes after the invalidation.
  let generation = 0;
  let cached: { snapshot: GroupSnapshot; at: number; generation: number } | undefined;
  let loading: { promise: Promise<GroupSnapshot>; generation: number } | undefined;
  let attemptedAt = -Infinity;
  let failed: { error: unknown; at: number; generation: number } | undefined;

  function load(): Promise<GroupSnapshot> {
    if (loading && loading.generation === generation) return loading.promise;
    const mine = generation;
    attemptedAt = now();
    const promise = deps.load().then((snapshot) => {
      if (!cached || cached.generation <= mine) cached = { snapshot, at: now(), generation: mine };
      return snapshot;
    }, (error) => {
      failed = { error, at: now(), generation: mine };
      throw error;
    }).finally(() => {
      if (loading?.promise === promise) loading = undefined;
    });
    loading = { promise, generation: mine };
    return promise;
  }

  return {
    snapshot() {
      if (cached && cached.generation === generation) {
        if (now() - Math.max(cached.at, attemptedAt) >= maxAgeMs) {
          // Its failure is the next waiting reader's to see, once the snapshot is dropped.
          load().catch(() => {});
        }
        return Promise.resolve(cached.snapshot);
      }
      if (
        !loading && failed && failed.generation === generation && now() - failed.at < retryMs
      ) {
        return Promise.reject(failed.error);
      }
      return load();
    },
    invalidate(seen) {
      if (cached?.snapshot === seen && cached.generation === generation) generation++;
    },
  };
}
