/**
 * Keeps stores current from their changelogs, for the standby tasks: one kafkajs
 * consumer in a private group reads both changelog topics; as the group's only member
 * it gets every partition, and pauses those no store follows. A followed store is
 * applied batch by batch from its checkpoint, exactly as a restore would.
 *
 * kafkajs can seek and pause only while it is a group member: a store followed before
 * the first join (or across a restart of the consumer) is seeked from the join
 * callback, before the generation's first fetch.
 *
 * @module
 */
import type { Consumer, EachBatchPayload } from "kafkajs";
import type { Logger } from "@logtape/logtape";
import type { ConsumerMetrics } from "../metrics.ts";
import type { TaskStore } from "../store/sqlite_store.ts";
import type { TaskId } from "./task.ts";
import { type TaskKind, type TaskKinds, taskName } from "./task_kinds.ts";

/** A store being kept current, and the task it belongs to. */
export interface Followed {
  id: TaskId;
  kind: TaskKind;
  store: TaskStore<unknown>;
}

/** What the follower needs. */
export interface FollowerDeps {
  kinds: TaskKinds;
  /** A kafkajs consumer (read_committed) in a private group of its own. */
  consumer: Consumer;
  metrics: Pick<ConsumerMetrics, "standbyLag" | "errors">;
  logger: Logger;
  now: () => number;
}

/** Follows changelog partitions into stores. */
export class ChangelogFollower {
  readonly #deps: FollowerDeps;
  readonly #followed = new Map<string, Followed>();
  #joined = false;

  constructor(deps: FollowerDeps) {
    this.#deps = deps;
  }

  get #topics(): string[] {
    return (Object.values(this.#deps.kinds) as TaskKind[]).map((k) => k.changelogTopic);
  }

  #kindOf(topic: string): TaskKind | undefined {
    return (Object.values(this.#deps.kinds) as TaskKind[]).find((k) => k.changelogTopic === topic);
  }

  /** Joins the private group and starts reading (what is followed). */
  async start(): Promise<void> {
    const { consumer, metrics, logger } = this.#deps;
    consumer.on(
      consumer.events.GROUP_JOIN,
      ({ payload }) => this.#onJoin(payload.memberAssignment),
    );
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      metrics.errors.labels("standby").inc();
      logger.warn("The standby reader crashed (restart: {restart}): {error}", {
        restart: payload.restart,
        error: payload.error,
      });
    });
    await consumer.connect();
    await consumer.subscribe({ topics: this.#topics, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      partitionsConsumedConcurrently: 2,
      eachBatch: (payload) => Promise.resolve(this.#apply(payload)),
    });
  }

  /** Before the first fetch of a generation: nothing but what is followed is read. */
  #onJoin(assignment: Record<string, number[]>) {
    this.#joined = true;
    for (const topic of this.#topics) {
      const kind = this.#kindOf(topic)!;
      const idle = (assignment[topic] ?? []).filter((p) =>
        !this.#followed.has(taskName({ kind: kind.name, partition: p }))
      );
      if (idle.length > 0) this.#deps.consumer.pause([{ topic, partitions: idle }]);
    }
    for (const f of this.#followed.values()) this.#seekAndResume(f);
  }

  #apply({ batch }: EachBatchPayload) {
    const kind = this.#kindOf(batch.topic);
    const f = kind && this.#followed.get(taskName({ kind: kind.name, partition: batch.partition }));
    if (!f) return;
    const entries = [];
    for (const message of batch.messages) {
      const entry = f.kind.readChangelog(message.key, message.value);
      if (entry) entries.push(entry);
    }
    f.store.apply(entries, Number(batch.lastOffset()) + 1, this.#deps.now());
    this.#deps.metrics.standbyLag.labels(f.id.kind, String(f.id.partition)).set(
      Math.max(0, Number(batch.highWatermark) - f.store.changelogOffset),
    );
  }

  #seekAndResume(f: Followed) {
    if (!this.#joined) return; // the join seeks every followed partition
    try {
      const topic = f.kind.changelogTopic;
      const offset = String(f.store.changelogOffset);
      this.#deps.consumer.seek({ topic, partition: f.id.partition, offset });
      this.#deps.consumer.resume([{ topic, partitions: [f.id.partition] }]);
    } catch (error) {
      this.#deps.logger.warn("Cannot follow {task} as a standby: {error}", {
        task: taskName(f.id),
        error,
      });
    }
  }

  /** Starts keeping `f.store` current from its checkpoint. */
  follow(f: Followed): void {
    this.#followed.set(taskName(f.id), f);
    this.#seekAndResume(f);
  }

  /** Stops applying to a task's store and hands it back (still open); undefined if not followed. */
  unfollow(id: TaskId): Followed | undefined {
    const name = taskName(id);
    const f = this.#followed.get(name);
    if (!f) return undefined;
    this.#followed.delete(name);
    try {
      this.#deps.consumer.pause([{ topic: f.kind.changelogTopic, partitions: [id.partition] }]);
    } catch {
      // Not joined yet: the join pauses every partition not followed.
    }
    this.#deps.metrics.standbyLag.remove(id.kind, String(id.partition));
    return f;
  }

  /** What is followed now. */
  followed(): Followed[] {
    return [...this.#followed.values()];
  }

  /** Leaves the private group. */
  async stop(): Promise<void> {
    await this.#deps.consumer.disconnect().catch(() => {});
  }
}
