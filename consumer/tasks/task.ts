/**
 * One partition's task, Kafka Streams' StreamTask: the partition's store, its
 * transactional producer, and the cycle that hands a chunk of records to the kind's
 * processor, commits the answers with the consumed offset and a progress record on the
 * changelog, and only then updates the store and reports the commit (one summary, one
 * place). The two kinds, payment tasks and customer tasks, differ only in their
 * processor and store (`task_kinds.ts`).
 *
 * Each chunk is traced (`chunk_trace.ts`): its span is active from the answers to the
 * report, each record's span starts and ends in the processor, and the transaction
 * runs in its own span. The tracing adds spans around the cycle; it changes nothing of
 * its order or outputs.
 *
 * @module
 */
import type { Tracer } from "@opentelemetry/api";
import type { CompressionTypes, KafkaMessage, Producer } from "kafkajs";
import { pipelineTracer } from "@payments/shared/tracing";
import { progressRecord } from "../store/changelog_records.ts";
import type { ChangelogEntry, TaskStore } from "../store/sqlite_store.ts";
import type { PartitionLeaders } from "../partition_leaders.ts";
import { type Committed, commitTransaction } from "../transaction.ts";
import type { ChunkProcessor } from "./chunk.ts";
import { ChunkTrace } from "./chunk_trace.ts";
import type { CommitReporter } from "./commit_report.ts";
import type { TaskId } from "./task_id.ts";

export type { TaskId } from "./task_id.ts";

/** What a task is built from. */
export interface TaskDeps<Row, S extends TaskStore<Row>> {
  id: TaskId;
  /** The task's input topic and the changelog its store follows. */
  inputTopic: string;
  changelogTopic: string;
  /** Connected, its transactional id initialised (the previous owner fenced). */
  producer: Producer;
  /** The leaders `producer` has seen, so a transaction sends one request per broker. */
  leaders?: PartitionLeaders;
  /** Restored: agrees with the changelog. */
  store: S;
  processor: ChunkProcessor<Row, S>;
  groupId: string;
  report: CommitReporter;
  compression?: CompressionTypes;
  now?: () => number;
  /** Default: the services' tracer (`@payments/shared/tracing`). */
  tracer?: Tracer;
}

/** How one chunk ended. */
export type ChunkOutcome =
  /** Committed; `last` is the chunk's last offset. */
  | { kind: "committed"; last: number }
  /** The transaction failed and nothing of it is visible: the chunk must be read again. */
  | { kind: "failed" }
  /** Committed, but the store could not take it: prepare the partition again. */
  | { kind: "store_behind"; last: number };

/** One partition's task. */
export interface Task<S = TaskStore<unknown>> {
  readonly id: TaskId;
  readonly store: S;
  /**
   * Answers and commits one chunk (at most a transaction's worth of records). `through`
   * (the fetched batch's last offset, on its last chunk) moves the committed position
   * past transaction markers and aborted records that follow the chunk's last record,
   * so a fully read partition shows no lag.
   */
  process(
    chunk: readonly KafkaMessage[],
    heartbeat: () => Promise<void>,
    through?: number,
  ): Promise<ChunkOutcome>;
  /** Closes the store and disconnects the producer. */
  close(): Promise<void>;
}

/** Creates the task of a prepared partition. */
export function createTask<Row, S extends TaskStore<Row>>(deps: TaskDeps<Row, S>): Task<S> {
  const { id, producer, store, processor, report } = deps;
  const { partition } = id;
  const now = deps.now ?? Date.now;
  const tracer = deps.tracer ?? pipelineTracer();

  /** One chunk's cycle, inside its spans. */
  async function processChunk(
    chunk: readonly KafkaMessage[],
    heartbeat: () => Promise<void>,
    through: number | undefined,
    spans: ChunkTrace,
  ): Promise<ChunkOutcome> {
    const fresh = chunk.filter((m) => Number(m.offset) > store.handledUpTo);
    const { answers, outputs, rows } = await processor.answer({
      partition,
      store,
      messages: fresh,
      heartbeat,
      trace: spans,
    });
    const last = Math.max(Number(chunk[chunk.length - 1]!.offset), through ?? -1);
    outputs.push(progressRecord(partition, last, deps.changelogTopic));
    let committed: Committed;
    try {
      committed = await spans.commit(() =>
        commitTransaction(producer, {
          outputs,
          groupId: deps.groupId,
          input: { topic: deps.inputTopic, partition, nextOffset: last + 1 },
          changelog: { topic: deps.changelogTopic, partition },
          ...(deps.compression === undefined ? {} : { compression: deps.compression }),
          ...(deps.leaders ? { leaders: deps.leaders } : {}),
        })
      );
    } catch (error) {
      report.failed(id, chunk[0]!.offset, last, error);
      spans.settled(answers);
      return { kind: "failed" };
    }
    const committedAtMs = now();
    try {
      const entries: ChangelogEntry<Row>[] = rows.map((row) => ({ kind: "row", row }));
      entries.push({ kind: "progress", inputOffset: last });
      store.apply(entries, committed.changelogEnd, committedAtMs);
      processor.committed?.(partition, rows);
    } catch (error) {
      report.storeBehind(id, error);
      spans.settled(answers);
      return { kind: "store_behind", last };
    }
    report.committed({
      id,
      answers,
      seconds: committed.seconds,
      committedAtMs,
      storeEntries: store.entries,
    });
    // Last: the records' commit spans cost nothing the latency figures above measure.
    spans.settled(answers);
    return { kind: "committed", last };
  }

  return {
    id,
    store,
    async process(chunk, heartbeat, through) {
      const spans = new ChunkTrace(tracer, {
        id,
        topic: deps.inputTopic,
        groupId: deps.groupId,
        records: chunk.length,
      });
      let outcome: ChunkOutcome | undefined;
      try {
        outcome = await spans.run(() => processChunk(chunk, heartbeat, through, spans));
        return outcome;
      } finally {
        spans.end(
          outcome?.kind === "committed" ? undefined : new Error(
            outcome === undefined
              ? "the chunk's processing threw"
              : outcome.kind === "failed"
              ? "the transaction failed: the chunk is read again"
              : "committed, but the store could not take it",
          ),
        );
      }
    },
    async close() {
      store.close();
      await producer.disconnect();
    },
  };
}
