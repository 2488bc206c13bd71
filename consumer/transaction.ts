/**
 * One Kafka transaction of the worker: every output record of a chunk (results, dead
 * letters, changelog records) and the consumed offset, committed together or not at
 * all.
 *
 * Each send writes the partitions of ONE leader broker, and the sends run one after
 * another. kafkajs 2.2.4 sends a multi-partition batch as one request per leader broker
 * and, when one of those requests fails (in a transaction most often
 * CONCURRENT_TRANSACTIONS, answered to the second of two concurrent AddPartitionsToTxn),
 * retries the batch while the others may still be in flight: a broker whose answer has
 * not arrived yet gets its partitions again, with new sequence numbers, so the broker
 * writes them twice and the later answer replaces the earlier. The leader-loss chaos
 * test caught results committed twice that way (same producer id and epoch,
 * consecutive sequences, one transaction). With one leader per send there is one
 * request per attempt, and a retry only ever follows a request that has ended. The
 * leaders are the producer's own view (`partition_leaders.ts`, which also refuses an
 * attempt whose partitions no longer share one); a partition whose leader is not
 * known yet is sent on its own. On one broker a transaction is one send, whatever the
 * partitions it writes: a customer task's results spread over every partition of
 * `payment_results`. Sends are further cut into bounded chunks (see `send_chunks.ts`).
 *
 * As a second line, every send's acknowledgements must name its partition exactly
 * once (kafkajs drops partitions it has no leader for and still succeeds); anything
 * else aborts the transaction.
 *
 * Each send is a `send <topic>` span per topic it writes, a child of whatever span is
 * active (the chunk's commit span, `tasks/chunk_trace.ts`); the span of a send of dead
 * letters links to the spans of the records they answer. The spans are not made active, so kafkajs' retry
 * log still finds the commit span around it.
 *
 * @module
 */
import { type Link, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import type { CompressionTypes, Producer, RecordMetadata } from "kafkajs";
import { kafkaAttributes, messagingSpanName } from "@payments/shared/span_attributes";
import { isSampled, pipelineTracer } from "@payments/shared/tracing";
import type { OutputRecord } from "./results.ts";
import type { PartitionLeaders } from "./partition_leaders.ts";
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
  /** The producer's partition leaders; without them every partition is sent on its own. */
  leaders?: Pick<PartitionLeaders, "leaderOf" | "send">;
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

/** Where a record goes: its topic and partition. */
const partitionKey = (r: { topic: string; partition: number }) => `${r.topic}\u0000${r.partition}`;

/**
 * The outputs in sends: the records of every partition whose leader is known go in one
 * send per leader, a partition whose leader is not known in a send of its own; sends
 * in the order their first record appears, each partition's records in their order.
 */
export function bySend(
  outputs: readonly OutputRecord[],
  leaderOf: (topic: string, partition: number) => number | undefined = () => undefined,
): OutputRecord[][] {
  const sends = new Map<string, OutputRecord[]>();
  for (const output of outputs) {
    const leader = leaderOf(output.topic, output.partition);
    const key = leader === undefined ? `partition ${partitionKey(output)}` : `leader ${leader}`;
    const records = sends.get(key) ?? [];
    records.push(output);
    sends.set(key, records);
  }
  return [...sends.values()];
}

/** The records of one send as kafkajs' topic messages: one entry per topic. */
function topicMessagesOf(records: readonly OutputRecord[]) {
  const topics = new Map<string, OutputRecord[]>();
  for (const record of records) {
    const list = topics.get(record.topic) ?? [];
    list.push(record);
    topics.set(record.topic, list);
  }
  return [...topics].map(([topic, list]) => ({
    topic,
    messages: list.map(({ key, value, headers, partition }) => ({
      key: key as string | null,
      value: value as string | null,
      headers: headers as Record<string, string>,
      partition,
    })),
  }));
}

/**
 * Offset just past the commit marker that follows `chunk`'s last changelog record, or
 * undefined when the chunk writes none.
 */
function changelogEndOf(
  changelog: { topic: string; partition: number },
  chunk: readonly OutputRecord[],
  metadata: readonly RecordMetadata[],
): number | undefined {
  const written = chunk.filter((r) => partitionKey(r) === partitionKey(changelog)).length;
  if (written === 0) return undefined;
  const ack = metadata.find((m) =>
    m.topicName === changelog.topic && m.partition === changelog.partition
  );
  return Number(ack!.baseOffset) + written + 1;
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
        "kafkajs lost track of a partition during the send's retries",
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
    const leaders = write.leaders;
    for (const records of bySend(write.outputs, leaders && ((t, p) => leaders.leaderOf(t, p)))) {
      for (const chunk of chunkBySize(records)) {
        const send = () =>
          transaction.sendBatch({
            acks: -1,
            topicMessages: topicMessagesOf(chunk),
            ...(write.compression === undefined ? {} : { compression: write.compression }),
          });
        const together = new Set(chunk.map(partitionKey)).size > 1;
        const metadata: RecordMetadata[] = await traced(
          chunk,
          leaders ? () => leaders.send(together, send) : send,
        );
        checkAcknowledged(chunk, metadata);
        changelogEnd = changelogEndOf(changelog, chunk, metadata) ?? changelogEnd;
      }
    }
    const around = trace.getActiveSpan();
    if (isSampled(around)) around!.addEvent("outputs written; sending offsets and committing");
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

/** Runs one send in a span per topic it writes (see the module documentation). */
async function traced<T>(records: readonly OutputRecord[], send: () => Promise<T>): Promise<T> {
  const spans = [...new Set(records.map((r) => r.topic))].map((topic) => {
    const span = pipelineTracer().startSpan(messagingSpanName("send", topic), {
      kind: SpanKind.PRODUCER,
    });
    if (isSampled(span)) {
      const written = records.filter((r) => r.topic === topic);
      const partitions = new Set(written.map((r) => r.partition));
      span.setAttributes(kafkaAttributes({
        operation: "send",
        destination: topic,
        ...(partitions.size === 1 ? { partition: written[0]!.partition } : {}),
        count: written.length,
      }));
      const links = written.flatMap((r): Link[] => r.answers ? [{ context: r.answers }] : []);
      if (links.length > 0) span.addLinks(links);
    }
    return span;
  });
  try {
    return await send();
  } catch (error) {
    for (const span of spans) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error)?.message });
    }
    throw error;
  } finally {
    for (const span of spans) span.end();
  }
}
