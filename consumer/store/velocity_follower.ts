/**
 * Keeps the velocity view current for the partitions other instances own: a
 * long-lived consumer in a private group reads their changelog partitions (from the
 * velocity horizon back, never the whole history) and adds every recent decision to
 * the {@linkcode VelocityTracker}. Partitions this worker owns are paused: its own
 * commits and its stores feed the tracker for those, so its own writes are not
 * decoded a second time.
 *
 * @module
 */
import type { Admin, Consumer, EachBatchPayload } from "kafkajs";
import type { Logger } from "@logtape/logtape";
import { readChangelogRecord } from "./changelog_records.ts";
import { offsetsAt, topicOffsets } from "./topic_offsets.ts";
import { VELOCITY_HORIZON_MS, type VelocityTracker } from "./velocity.ts";

/** The follower as the worker sees it. */
export interface VelocityFollower {
  /** Joins its private group and starts reading every partition from the horizon. */
  start(): Promise<void>;
  /** Stops reading partitions this worker now owns. */
  own(partitions: readonly number[]): void;
  /** Reads partitions again that moved to another instance, from the horizon. */
  disown(partitions: readonly number[]): Promise<void>;
  /**
   * Resolves true once every partition not owned here was read up to where it ended
   * when the follower started; false if that takes longer than `timeoutMs`.
   */
  caughtUp(timeoutMs: number): Promise<boolean>;
  stop(): Promise<void>;
}

/** What the follower needs. */
export interface VelocityFollowerDeps {
  /** A kafkajs consumer (read_committed) in a private group of its own. */
  consumer: Consumer;
  admin: Admin;
  topic: string;
  velocity: VelocityTracker;
  logger: Logger;
  /** Called when the follower's consumer crashes (kafkajs restarts it when it can). */
  onCrash?: (restart: boolean) => void;
  now?: () => number;
}

/** Creates the follower; nothing is read until `start()`. */
export function createVelocityFollower(deps: VelocityFollowerDeps): VelocityFollower {
  const { consumer, admin, topic, velocity, logger } = deps;
  const now = deps.now ?? Date.now;
  const owned = new Set<number>();
  /** Next offset to read per partition: where to seek after a (re)join. */
  const position = new Map<number, number>();
  /** Where each partition ended when the follower started. */
  let ends = new Map<number, number>();
  let waiters: (() => void)[] = [];

  const horizonOffsets = () => offsetsAt(admin, topic, now() - VELOCITY_HORIZON_MS);
  const isCaughtUp = () =>
    [...ends].every(([p, end]) => owned.has(p) || (position.get(p) ?? 0) >= end);
  const wake = () => {
    if (!isCaughtUp()) return;
    for (const waiter of waiters) waiter();
    waiters = [];
  };

  const eachBatch = ({ batch }: EachBatchPayload) => {
    const oldest = now() - VELOCITY_HORIZON_MS;
    for (const message of batch.messages) {
      const entry = readChangelogRecord(message.key, message.value);
      if (entry?.kind !== "decision") continue;
      const { decision } = entry;
      if (decision.decidedAtMs < oldest) continue;
      velocity.add(decision.customerId, decision.paymentId, decision.createdAtMs);
    }
    return Promise.resolve();
  };

  let listening = false;
  const listen = () => {
    if (listening) return;
    listening = true;
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      // Before the first fetch of this generation: continue where each partition got
      // to, never from the beginning of the changelog.
      const assigned = payload.memberAssignment[topic] ?? [];
      consumer.pause([{ topic, partitions: assigned.filter((p) => owned.has(p)) }]);
      for (const partition of assigned) {
        const offset = position.get(partition);
        if (!owned.has(partition) && offset !== undefined) {
          consumer.seek({ topic, partition, offset: String(offset) });
        }
      }
    });
    consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
      position.set(payload.partition, Number(payload.lastOffset) + 1);
      wake();
    });
    // Payments are still decided without it, but the velocity rule then misses other
    // instances' recent decisions: say so loudly.
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      deps.onCrash?.(payload.restart);
      logger.error(
        "The velocity follower of {topic} crashed (restart: {restart}): {error}; until it runs " +
          "again the velocity rule sees only this instance's decisions",
        { topic, restart: payload.restart, error: payload.error },
      );
    });
  };

  return {
    async start() {
      listen();
      const [starts, highs] = await Promise.all([horizonOffsets(), topicOffsets(admin, topic)]);
      for (const [partition, offset] of starts) position.set(partition, offset);
      ends = new Map([...highs.values()].map((o) => [o.partition, o.high]));
      await consumer.connect();
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      await consumer.run({ autoCommit: false, partitionsConsumedConcurrently: 3, eachBatch });
    },
    own(partitions) {
      for (const partition of partitions) owned.add(partition);
      try {
        consumer.pause([{ topic, partitions: [...partitions] }]);
      } catch {
        // Between a crash and kafkajs' restart the consumer cannot pause ("Consumer
        // group was not initialized"); the join that restarts it pauses every owned
        // partition (GROUP_JOIN above). Owning a partition never waits for the follower:
        // it once held a partition's preparation back for as long as the restart took.
      }
      wake();
    },
    async disown(partitions) {
      for (const partition of partitions) owned.delete(partition);
      const starts = await horizonOffsets();
      for (const partition of partitions) {
        if (owned.has(partition)) continue; // owned again meanwhile
        const offset = starts.get(partition) ?? 0;
        position.set(partition, offset);
        try {
          consumer.seek({ topic, partition, offset: String(offset) });
          consumer.resume([{ topic, partitions: [partition] }]);
        } catch (error) {
          logger.warn("Cannot follow {topic} partition {partition} again: {error}", {
            topic,
            partition,
            error,
          });
        }
      }
    },
    caughtUp(timeoutMs) {
      if (isCaughtUp()) return Promise.resolve(true);
      return new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => {
          waiters = waiters.filter((w) => w !== done);
          resolve(false);
        }, timeoutMs);
        const done = () => {
          clearTimeout(timer);
          resolve(true);
        };
        waiters.push(done);
      });
    },
    async stop() {
      await consumer.disconnect();
    },
  };
}
