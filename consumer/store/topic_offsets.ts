/**
 * Offsets of a topic's partitions from the admin client, retried. kafkajs' admin gives
 * up at once when a partition's leader is moving (NOT_LEADER_OR_FOLLOWER, right after
 * a topic was created or while a broker fails over), although the answer is only a
 * moment away.
 *
 * @module
 */
import type { Admin } from "kafkajs";

/** Offsets of one partition. */
export interface PartitionOffsets {
  partition: number;
  /** Earliest offset kept. */
  low: number;
  /** End of the partition. */
  high: number;
}

const ATTEMPTS = 8;
const FIRST_DELAY_MS = 100;

function isRetriable(error: unknown): boolean {
  return (error as { retriable?: unknown })?.retriable === true;
}

async function retried<T>(what: () => Promise<T>): Promise<T> {
  for (let attempt = 1;; attempt++) {
    try {
      return await what();
    } catch (error) {
      if (attempt >= ATTEMPTS || !isRetriable(error)) throw error;
      await new Promise((resolve) => setTimeout(resolve, FIRST_DELAY_MS * 2 ** (attempt - 1)));
    }
  }
}

/** Low and high offsets of every partition of `topic`. */
export async function topicOffsets(
  admin: Admin,
  topic: string,
): Promise<Map<number, PartitionOffsets>> {
  const offsets = await retried(() => admin.fetchTopicOffsets(topic));
  return new Map(
    offsets.map((
      o,
    ) => [o.partition, { partition: o.partition, low: Number(o.low), high: Number(o.high) }]),
  );
}

/**
 * Per partition of `topic`, the first offset whose record timestamp is at or after
 * `timestampMs` (the end of the partition when there is none).
 */
export async function offsetsAt(
  admin: Admin,
  topic: string,
  timestampMs: number,
): Promise<Map<number, number>> {
  const offsets = await retried(() => admin.fetchTopicOffsetsByTimestamp(topic, timestampMs));
  return new Map(offsets.map((o) => [o.partition, Number(o.offset)]));
}
