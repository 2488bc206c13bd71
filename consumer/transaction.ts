/**
 * One Kafka transaction of the worker: every output record of a chunk (results, dead
 * letters, changelog records) and the consumed offset, committed together or not at
 * all.
 *
 * Each send writes ONE partition, and the sends run one after another. kafkajs 2.2.4
 * sends a multi-partition batch as one request per leader broker and, when one of
 * those requests fails (in a transaction most often CONCURRENT_TRANSACTIONS, answered
 * to the second of two concurrent AddPartitionsToTxn), retries the batch while the
 * others may still be in flight: a broker whose answer has not arrived yet gets its
 * partitions again, with new sequence numbers, so the broker writes them twice and the
 * later answer replaces the earlier. The leader-loss chaos test caught results
 * committed twice that way (same producer id and epoch, consecutive sequences, one
 * transaction). With one partition per send there is one request per attempt, and a
 * retry only ever follows a request that has ended. The cost is one request per
 * partition, usually two per transaction (the results partition and the changelog
 * partition). Sends are further cut into bounded chunks (see `send_chunks.ts`).
 *
 * As a second line, every send's acknowledgements must name its partition exactly
 * once (kafkajs drops partitions it has no leader for and still succeeds); anything
 * else aborts the transaction.
 *
 * Each send is a `send <topic>` span, a child of whatever span is active (the chunk's
 * commit span, `tasks/chunk_trace.ts`); the span of a send of dead letters links to the
 * spans of the records they answer. The spans are not made active, so kafkajs' retry
 * log still finds the commit span around it.
 *
 * @module
 */
import { type Link, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import type { CompressionTypes, Producer, RecordMetadata } from "kafkajs";
import { kafkaAttributes, messagingSpanName } from "@payments/shared/span_attributes";
import { isSampled, pipelineTracer } from "@payments/shared/tracing";
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

/** The outputs per partition, in the order each partition first appears. */
export function byPartition(outputs: readonly OutputRecord[]): OutputRecord[][] {
  const partitions = new Map<string, OutputRecord[]>();
  for (const output of outputs) {
    const key = `${output.topic}\u0000${output.partition}`;
    const records = partitions.get(key) ?? [];
    records.push(output);
    partitions.set(key, records);
  }
  return [...partitions.values()];
}

function messagesOf(records: readonly OutputRecord[]) {
  return records.map(({ key, value, headers, partition }) => ({
    key: key as string | null,
    value: value as string | null,
    headers: headers as Record<string, string>,
    partition,
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
    for (const records of byPartition(write.outputs)) {
      const { topic, partition } = records[0]!;
      for (const chunk of chunkBySize(records)) {
        const metadata: RecordMetadata[] = await traced(
          topic,
          partition,
          chunk,
          () =>
            transaction.sendBatch({
              acks: -1,
              topicMessages: [{ topic, messages: messagesOf(chunk) }],
              ...(write.compression === undefined ? {} : { compression: write.compression }),
            }),
        );
        checkAcknowledged(chunk, metadata);
        if (topic === changelog.topic && partition === changelog.partition) {
          // Last changelog record, then its commit marker.
          changelogEnd = Number(metadata[0]!.baseOffset) + chunk.length + 1;
        }
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

/** Runs one send in its span (see the module documentation). */
async function traced<T>(
  topic: string,
  partition: number,
  records: readonly OutputRecord[],
  send: () => Promise<T>,
): Promise<T> {
  const span = pipelineTracer().startSpan(messagingSpanName("send", topic), {
    kind: SpanKind.PRODUCER,
  });
  if (isSampled(span)) {
    span.setAttributes(
      kafkaAttributes({ operation: "send", destination: topic, partition, count: records.length }),
    );
    const links = records.flatMap((r): Link[] => r.answers ? [{ context: r.answers }] : []);
    if (links.length > 0) span.addLinks(links);
  }
  try {
    return await send();
  } catch (error) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error)?.message });
    throw error;
  } finally {
    span.end();
  }
}
