/**
 * Standby tasks (Kafka Streams' `num.standby.replicas`): stores of tasks another
 * instance owns, kept current from their changelogs, so that when a task moves here
 * (its owner stopped, crashed, or the group scaled) its store only has to read what
 * the changelog got in the last moments, whatever the history.
 *
 * One kafkajs consumer in a private group reads both changelogs; it gets every
 * partition and pauses those it keeps no standby for. A standby's store is applied
 * batch by batch from its checkpoint, exactly as a restore would; when its task
 * becomes active here the task manager takes the open store over, and when a task
 * moves away from here the store is opened again as a standby if the group wants it.
 *
 * @module
 */
import type { Consumer, EachBatchPayload } from "kafkajs";
import type { Logger } from "@logtape/logtape";
import type { ConsumerMetrics } from "../metrics.ts";
import type { TaskStore } from "../store/sqlite_store.ts";
import type { PartitionOffsets } from "../store/topic_offsets.ts";
import type { TaskId } from "./task.ts";
import { type TaskKind, type TaskKinds, taskName } from "./task_kinds.ts";

/** What the standbys need. */
export interface StandbyDeps {
  kinds: TaskKinds;
  /** A kafkajs consumer (read_committed) in a private group of its own. */
  consumer: Consumer;
  /** Opens (or creates) the store of a task, checked off the event loop; an unusable file is moved aside. */
  openStore: (id: TaskId) => Promise<TaskStore<unknown>>;
  /** Offsets of a changelog topic (a store past the end is reset, as in a restore). */
  offsets: (topic: string) => Promise<Map<number, PartitionOffsets>>;
  /** Whether the task is active here now (its store is the task's, not ours). */
  isActive: (id: TaskId) => boolean;
  metrics: Pick<ConsumerMetrics, "standbyTasks" | "standbyLag" | "errors">;
  logger: Logger;
  now?: () => number;
}

/** The standby tasks of this instance. */
export interface Standbys {
  /**
   * The standby tasks the group wants here now; new ones are opened and followed. The
   * reader joins its private group with the first standby (a lone instance has none).
   */
  want(ids: readonly TaskId[]): Promise<void>;
  /** Hands a standby's open store over to the task becoming active here; undefined if none. */
  take(id: TaskId): Promise<TaskStore<unknown> | undefined>;
  /** Called once a task that was active here closed: it may be kept as a standby now. */
  released(id: TaskId): Promise<void>;
  /** The store of a standby, for reads. */
  store(id: TaskId): TaskStore<unknown> | undefined;
  /** Tasks kept warm now. */
  held(): TaskId[];
  stop(): Promise<void>;
}

interface Followed {
  id: TaskId;
  kind: TaskKind;
  store: TaskStore<unknown>;
}

/** Creates the standbys; nothing is read until the group wants one here. */
export function createStandbys(deps: StandbyDeps): Standbys {
  const { consumer, kinds, logger, metrics } = deps;
  const now = deps.now ?? Date.now;
  const followed = new Map<string, Followed>();
  let wanted: TaskId[] = [];
  let joined = false;
  let started: Promise<void> | undefined;
  let queue: Promise<unknown> = Promise.resolve();
  const serially = <T>(work: () => Promise<T>): Promise<T> => {
    const next = queue.then(work);
    queue = next.catch(() => {});
    return next;
  };
  const kindOf = (topic: string) =>
    (Object.values(kinds) as TaskKind[]).find((k) => k.changelogTopic === topic);
  const gauge = () => {
    for (const kind of ["payments", "customers"] as const) {
      const n = [...followed.values()].filter((f) => f.id.kind === kind).length;
      metrics.standbyTasks.labels(kind).set(n);
    }
  };

  function pause(f: Followed) {
    try {
      consumer.pause([{ topic: f.kind.changelogTopic, partitions: [f.id.partition] }]);
    } catch {
      // Not joined yet: the join pauses every partition not followed.
    }
  }

  function seekAndResume(f: Followed) {
    if (!joined) return; // the join seeks every followed partition
    try {
      const topic = f.kind.changelogTopic;
      consumer.seek({ topic, partition: f.id.partition, offset: String(f.store.changelogOffset) });
      consumer.resume([{ topic, partitions: [f.id.partition] }]);
    } catch (error) {
      logger.warn("Cannot follow {task} as a standby: {error}", { task: taskName(f.id), error });
    }
  }

  async function follow(id: TaskId) {
    const kind = kinds[id.kind] as TaskKind;
    const store = await deps.openStore(id);
    const end = (await deps.offsets(kind.changelogTopic)).get(id.partition);
    // The changelog topic was recreated since: read it again from its start.
    if (end && store.changelogOffset > end.high) store.reset();
    const f = { id, kind, store };
    followed.set(taskName(id), f);
    seekAndResume(f);
    logger.info("Standby {task} follows {changelog} from {offset}", {
      task: taskName(id),
      changelog: kind.changelogTopic,
      offset: store.changelogOffset,
    });
  }

  function unfollow(name: string): Followed | undefined {
    const f = followed.get(name);
    if (!f) return undefined;
    followed.delete(name);
    pause(f);
    metrics.standbyLag.remove(f.id.kind, String(f.id.partition));
    return f;
  }

  async function reconcile() {
    const keep = new Set(wanted.filter((id) => !deps.isActive(id)).map(taskName));
    for (const name of [...followed.keys()]) {
      if (!keep.has(name)) unfollow(name)?.store.close();
    }
    for (const id of wanted) {
      if (!keep.has(taskName(id)) || followed.has(taskName(id))) continue;
      try {
        await follow(id);
      } catch (error) {
        metrics.errors.labels("standby").inc();
        logger.warn("Cannot keep a standby of {task}: {error}", { task: taskName(id), error });
      }
    }
    gauge();
  }

  const eachBatch = ({ batch }: EachBatchPayload) => {
    const kind = kindOf(batch.topic);
    const f = kind && followed.get(taskName({ kind: kind.name, partition: batch.partition }));
    if (!f) return Promise.resolve();
    const entries = [];
    for (const message of batch.messages) {
      const entry = f.kind.readChangelog(message.key, message.value);
      if (entry) entries.push(entry);
    }
    f.store.apply(entries, Number(batch.lastOffset()) + 1, now());
    metrics.standbyLag.labels(f.id.kind, String(f.id.partition)).set(
      Math.max(0, Number(batch.highWatermark) - f.store.changelogOffset),
    );
    return Promise.resolve();
  };

  async function start() {
    const topics = (Object.values(kinds) as TaskKind[]).map((k) => k.changelogTopic);
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      // Before the first fetch of this generation: nothing but the standbys is read,
      // each from its store's checkpoint.
      joined = true;
      for (const topic of topics) {
        const kind = kindOf(topic)!;
        const assigned = payload.memberAssignment[topic] ?? [];
        const idle = assigned.filter((p) =>
          !followed.has(taskName({ kind: kind.name, partition: p }))
        );
        if (idle.length > 0) consumer.pause([{ topic, partitions: idle }]);
      }
      for (const f of followed.values()) seekAndResume(f);
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      metrics.errors.labels("standby").inc();
      logger.warn("The standby reader crashed (restart: {restart}): {error}", {
        restart: payload.restart,
        error: payload.error,
      });
    });
    await consumer.connect();
    await consumer.subscribe({ topics, fromBeginning: true });
    await consumer.run({ autoCommit: false, partitionsConsumedConcurrently: 2, eachBatch });
  }

  return {
    want(ids) {
      return serially(async () => {
        wanted = [...ids];
        if (wanted.length > 0 && !started) {
          started = start().catch((error) => {
            started = undefined;
            metrics.errors.labels("standby").inc();
            logger.warn("Cannot start the standby reader: {error}", { error });
          });
          await started;
        }
        await reconcile();
      });
    },
    take(id) {
      return serially(() => {
        const f = unfollow(taskName(id));
        gauge();
        return Promise.resolve(f?.store);
      });
    },
    released() {
      return serially(reconcile);
    },
    store(id) {
      return followed.get(taskName(id))?.store;
    },
    held() {
      return [...followed.values()].map((f) => f.id);
    },
    stop() {
      return serially(async () => {
        wanted = [];
        if (started) await consumer.disconnect().catch(() => {});
        for (const name of [...followed.keys()]) unfollow(name)?.store.close();
        gauge();
      });
    },
  };
}
