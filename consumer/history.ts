/**
 * What has already been decided, rebuilt from Kafka: a follower consumer reads
 * `payment_results` and the DLQ (read_committed, from the beginning, in a private
 * group of its own) and feeds the de-duplication window, the velocity tracker and,
 * per input partition, the highest input offset that already has a committed
 * answer. The worker waits for the follower to reach a partition's last stable
 * offset before it processes that partition, and skips input records that already
 * have an answer (a zombie's transaction that committed after our offsets were read).
 *
 * @module
 */
import type { Consumer, KafkaMessage } from "kafkajs";
import type { Logger } from "@logtape/logtape";
import { headerText } from "@payments/shared/record_headers";
import type { TopicNames } from "@payments/shared/topics";
import type { DedupWindow, VelocityTracker } from "./dedup.ts";
import { ORIGIN_HEADER } from "./results.ts";

/** A position the follower has to reach. */
export interface Target {
  topic: string;
  partition: number;
  /** Offset (exclusive) the follower must have read up to. */
  offset: number;
}

/** The follower's public face. */
export interface History {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Highest input offset on `partition` of the requests topic with a committed answer, or -1. */
  handledUpTo(partition: number): number;
  /** Marks input offsets as answered (the worker calls it right after its own commits). */
  markHandled(partition: number, offset: number): void;
  /** Resolves when every target is reached; rejects after `timeoutMs`. */
  waitFor(targets: Target[], timeoutMs: number): Promise<void>;
}

/** What the follower needs. */
export interface HistoryDeps {
  consumer: Consumer;
  topics: TopicNames;
  dedup: DedupWindow;
  velocity: VelocityTracker;
  logger: Logger;
}

interface ResultFields {
  payment_id?: unknown;
  customer_id?: unknown;
  created_at?: unknown;
  outcome?: unknown;
}

/** Creates the follower; `start()` subscribes and runs it. */
export function createHistory(deps: HistoryDeps): History {
  const { consumer, topics, dedup, velocity, logger } = deps;
  const handled = new Map<number, number>();
  const positions = new Map<string, number>();
  let waiters: { check: () => boolean; resolve: () => void }[] = [];

  const markHandled = (partition: number, offset: number) => {
    if (offset > (handled.get(partition) ?? -1)) handled.set(partition, offset);
  };

  const wake = () => {
    waiters = waiters.filter((waiter) => {
      if (!waiter.check()) return true;
      waiter.resolve();
      return false;
    });
  };

  const absorb = (topic: string, partition: number, message: KafkaMessage) => {
    const originTopic = headerText(message.headers, ORIGIN_HEADER.topic);
    const originPartition = Number(headerText(message.headers, ORIGIN_HEADER.partition));
    const originOffset = Number(headerText(message.headers, ORIGIN_HEADER.offset));
    const inputPartition = Number.isInteger(originPartition) ? originPartition : partition;
    if (originTopic === topics.requests && Number.isInteger(originOffset)) {
      markHandled(inputPartition, originOffset);
    }
    if (topic !== topics.results || !message.value) return;
    let fields: ResultFields;
    try {
      fields = JSON.parse(message.value.toString()) as ResultFields;
    } catch {
      logger.warn("Unreadable result record at {topic}/{partition}@{offset}", {
        topic,
        partition,
        offset: message.offset,
      });
      return;
    }
    if (typeof fields.payment_id !== "string") return;
    dedup.add(inputPartition, fields.payment_id);
    const created = typeof fields.created_at === "string" ? Date.parse(fields.created_at) : NaN;
    if (
      fields.outcome !== "DUPLICATE" && typeof fields.customer_id === "string" && !isNaN(created)
    ) {
      velocity.add(fields.customer_id, fields.payment_id, created);
    }
  };

  let removeListener: (() => void) | undefined;

  return {
    async start() {
      // start() may be retried after Kafka was unreachable: listen only once.
      removeListener ??= consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
        positions.set(`${payload.topic}:${payload.partition}`, Number(payload.lastOffset) + 1);
        wake();
      });
      await consumer.connect();
      await consumer.subscribe({ topics: [topics.results, topics.dlq], fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        partitionsConsumedConcurrently: 3,
        eachBatch: ({ batch }) => {
          for (const message of batch.messages) absorb(batch.topic, batch.partition, message);
          return Promise.resolve();
        },
      });
    },
    async stop() {
      await consumer.disconnect();
    },
    handledUpTo: (partition) => handled.get(partition) ?? -1,
    markHandled,
    waitFor(targets, timeoutMs) {
      const check = () =>
        targets.every((target) =>
          target.offset <= 0 ||
          (positions.get(`${target.topic}:${target.partition}`) ?? 0) >= target.offset
        );
      if (check()) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters = waiters.filter((waiter) => waiter.resolve !== done);
          reject(
            new Error(
              `Cannot restore processing history: follower did not reach ${
                JSON.stringify(targets)
              } within ${timeoutMs} ms`,
            ),
          );
        }, timeoutMs);
        const done = () => {
          clearTimeout(timer);
          resolve();
        };
        waiters.push({ check, resolve: done });
      });
    },
  };
}
