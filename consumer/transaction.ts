/**
 * One Kafka transaction of the worker: every output record of a chunk (results, dead
 * letters, changelog records) and the consumed offset, committed together or not at
 * all. Sends are cut into bounded chunks (see `send_chunks.ts`).
 *
 * Every partition of a send must be acknowledged exactly once, or the transaction is
 * aborted. kafkajs 2.2.4 keeps a send's progress across its internal retries per
 * broker, not per partition: when a broker dies mid-send and its partitions move to a
 * broker that already answered, they are never sent (yet the send succeeds), and when
 * they move to one that had not, partitions already written are written again with
 * new sequence numbers (the leader-loss chaos test caught a result committed twice).
 * Both show in what the send returns: a partition missing, or listed twice.
 *
 * @module
 */
import type { CompressionTypes, Producer, RecordMetadata } from "kafkajs";
import type { OutputRecord } from "./results.ts";
import { chunkBySize } from "./send_chunks.ts";

/** What one transaction writes. */
export interface TransactionWrite {
  outputs: readonly OutputRecord[];
  groupId: string;
  /** The consumed input position committed with the outputs. */
  input: { topic: string; partition: number; nextOffset: number };
  /** The changelog partition whose end this transaction moves. */
  changelog: { topic: string; partition: number };
  compression?: CompressionTypes;
}

/** A committed transaction. */
export interface Committed {
  seconds: number;
  /**
   * Offset just past this transaction's commit marker on the changelog partition:
   * nobody else writes that partition while this worker owns it, so the marker
   * follows the last changelog record directly.
   */
  changelogEnd: number;
}

/** A transaction that failed; it was aborted (when it could be) and nothing of it is visible. */
export class TransactionError extends Error {
  override name = "TransactionError";
  constructor(readonly seconds: number, cause: unknown) {
    super(`transaction aborted: ${(cause as Error)?.message ?? cause}`, { cause });
  }
}

function byTopic(chunk: readonly OutputRecord[]) {
  const topics = new Map<string, OutputRecord[]>();
  for (const output of chunk) {
    const records = topics.get(output.topic) ?? [];
    records.push(output);
    topics.set(output.topic, records);
  }
  return [...topics].map(([topic, records]) => ({
    topic,
    messages: records.map(({ key, value, headers, partition }) => ({
      key: key as string | null,
      value: value as string | null,
      headers: headers as Record<string, string>,
      partition,
    })),
  }));
}

/** Thrown when a send's acknowledgements do not cover each of its partitions exactly once. */
export class UnacknowledgedSendError extends Error {
  override name = "UnacknowledgedSendError";
}

/** Throws unless every partition `chunk` writes appears exactly once in `metadata`. */
export function checkAcknowledged(
  chunk: readonly OutputRecord[],
  metadata: readonly RecordMetadata[],
): void {
  const acknowledged = new Map<string, number>();
  for (const m of metadata) {
    const key = `${m.topicName}-${m.partition}`;
    acknowledged.set(key, (acknowledged.get(key) ?? 0) + 1);
  }
  const problems: string[] = [];
  for (const key of new Set(chunk.map((r) => `${r.topic}-${r.partition}`))) {
    const times = acknowledged.get(key) ?? 0;
    if (times !== 1) problems.push(`${key} acknowledged ${times} times`);
  }
  if (problems.length > 0) {
    throw new UnacknowledgedSendError(
      `Kafka's answers to one send do not cover each partition once (${problems.join(", ")}): ` +
        "a partition changed leader during the send's retries",
    );
  }
}

/** Writes and commits; throws a {@linkcode TransactionError} after aborting on failure. */
export async function commitTransaction(
  producer: Producer,
  write: TransactionWrite,
): Promise<Committed> {
  const started = performance.now();
  const { changelog } = write;
  const transaction = await producer.transaction();
  try {
    let changelogEnd = -1;
    for (const chunk of chunkBySize(write.outputs)) {
      const metadata: RecordMetadata[] = await transaction.sendBatch({
        acks: -1,
        topicMessages: byTopic(chunk),
        ...(write.compression === undefined ? {} : { compression: write.compression }),
      });
      checkAcknowledged(chunk, metadata);
      const sent = chunk.filter((r) =>
        r.topic === changelog.topic && r.partition === changelog.partition
      ).length;
      const meta = metadata.find((m) =>
        m.topicName === changelog.topic && m.partition === changelog.partition
      );
      if (sent > 0 && meta?.baseOffset !== undefined) {
        // Last changelog record, then its commit marker.
        changelogEnd = Number(meta.baseOffset) + sent + 1;
      }
    }
    await transaction.sendOffsets({
      consumerGroupId: write.groupId,
      topics: [{
        topic: write.input.topic,
        partitions: [{ partition: write.input.partition, offset: String(write.input.nextOffset) }],
      }],
    });
    await transaction.commit();
    return { seconds: (performance.now() - started) / 1000, changelogEnd };
  } catch (error) {
    if (transaction.isActive()) await transaction.abort().catch(() => {});
    throw new TransactionError((performance.now() - started) / 1000, error);
  }
}
