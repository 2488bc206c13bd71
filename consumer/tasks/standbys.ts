/**
 * Standby tasks (Kafka Streams' `num.standby.replicas`): stores of tasks another
 * instance owns, kept current from their changelogs, so that when a task moves here
 * (its owner stopped, crashed, or the group scaled) its store only has to read what
 * the changelog got in the last moments, whatever the history.
 *
 * The group's leader decides which instance keeps which standby; this instance opens
 * the stores it is handed and keeps them current with a `ChangelogFollower`. When a
 * standby's task becomes active here the task manager takes the open store over, and
 * when a task moves away from here its store is opened again as a standby if the
 * group wants it here.
 *
 * @module
 */
import type { Consumer } from "kafkajs";
import type { Logger } from "@logtape/logtape";
import type { ConsumerMetrics } from "../metrics.ts";
import type { TaskStore } from "../store/sqlite_store.ts";
import type { PartitionOffsets } from "../store/topic_offsets.ts";
import { ChangelogFollower } from "./changelog_follower.ts";
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

/** The standby tasks of an instance. */
export class StandbyTasks implements Standbys {
  readonly #deps: StandbyDeps;
  readonly #follower: ChangelogFollower;
  #wanted: TaskId[] = [];
  #started: Promise<void> | undefined;
  /** One change at a time: the group's wishes, take-overs and releases interleave. */
  #queue: Promise<unknown> = Promise.resolve();

  constructor(deps: StandbyDeps) {
    this.#deps = deps;
    this.#follower = new ChangelogFollower({
      kinds: deps.kinds,
      consumer: deps.consumer,
      metrics: deps.metrics,
      logger: deps.logger,
      now: deps.now ?? Date.now,
    });
  }

  #serially<T>(work: () => Promise<T>): Promise<T> {
    const next = this.#queue.then(work);
    this.#queue = next.catch(() => {});
    return next;
  }

  #gauge() {
    for (const kind of ["payments", "customers"] as const) {
      const n = this.#follower.followed().filter((f) => f.id.kind === kind).length;
      this.#deps.metrics.standbyTasks.labels(kind).set(n);
    }
  }

  async #follow(id: TaskId) {
    const kind = this.#deps.kinds[id.kind] as TaskKind;
    const store = await this.#deps.openStore(id);
    const end = (await this.#deps.offsets(kind.changelogTopic)).get(id.partition);
    // The changelog topic was recreated since: read it again from its start.
    if (end && store.changelogOffset > end.high) store.reset();
    this.#follower.follow({ id, kind, store });
    this.#deps.logger.info("Standby {task} follows {changelog} from {offset}", {
      task: taskName(id),
      changelog: kind.changelogTopic,
      offset: store.changelogOffset,
    });
  }

  /** Opens what is wanted and not active here; closes what is no longer wanted. */
  async #reconcile() {
    const keep = new Set(this.#wanted.filter((id) => !this.#deps.isActive(id)).map(taskName));
    for (const f of this.#follower.followed()) {
      if (!keep.has(taskName(f.id))) this.#follower.unfollow(f.id)?.store.close();
    }
    const held = new Set(this.#follower.followed().map((f) => taskName(f.id)));
    for (const id of this.#wanted) {
      if (!keep.has(taskName(id)) || held.has(taskName(id))) continue;
      try {
        await this.#follow(id);
      } catch (error) {
        this.#deps.metrics.errors.labels("standby").inc();
        this.#deps.logger.warn("Cannot keep a standby of {task}: {error}", {
          task: taskName(id),
          error,
        });
      }
    }
    this.#gauge();
  }

  /** Starts the follower with the first standby (a lone instance has none). */
  async #startOnce() {
    if (this.#started || this.#wanted.length === 0) return;
    this.#started = this.#follower.start().catch((error) => {
      this.#started = undefined;
      this.#deps.metrics.errors.labels("standby").inc();
      this.#deps.logger.warn("Cannot start the standby reader: {error}", { error });
    });
    await this.#started;
  }

  want(ids: readonly TaskId[]): Promise<void> {
    return this.#serially(async () => {
      this.#wanted = [...ids];
      await this.#startOnce();
      await this.#reconcile();
    });
  }

  take(id: TaskId): Promise<TaskStore<unknown> | undefined> {
    return this.#serially(() => {
      const f = this.#follower.unfollow(id);
      this.#gauge();
      return Promise.resolve(f?.store);
    });
  }

  released(): Promise<void> {
    return this.#serially(() => this.#reconcile());
  }

  store(id: TaskId): TaskStore<unknown> | undefined {
    return this.#follower.followed().find((f) => taskName(f.id) === taskName(id))?.store;
  }

  held(): TaskId[] {
    return this.#follower.followed().map((f) => f.id);
  }

  stop(): Promise<void> {
    return this.#serially(async () => {
      this.#wanted = [];
      if (this.#started) await this.#follower.stop();
      for (const f of this.#follower.followed()) this.#follower.unfollow(f.id)?.store.close();
      this.#gauge();
    });
  }
}

/** Creates the standbys; nothing is read until the group wants one here. */
export function createStandbys(deps: StandbyDeps): Standbys {
  return new StandbyTasks(deps);
}
