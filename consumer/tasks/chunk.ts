/**
 * What a kind of task does with a chunk of its input (at most a transaction's worth
 * of records): the answers, every record to write with them, and the rows its store
 * takes once they committed. The task (`task.ts`) adds the progress record, commits,
 * and applies the rows; a processor never writes to Kafka or to its store itself.
 *
 * @module
 */
import type { KafkaMessage } from "kafkajs";
import type { Answer } from "../answer.ts";
import type { OutputRecord } from "../results.ts";
import type { ChunkTrace } from "./chunk_trace.ts";

/** A chunk of one partition, handed to a processor. */
export interface Chunk<S> {
  partition: number;
  /** The partition's store, agreeing with the changelog. */
  store: S;
  /** The records not answered before (offsets past the store's `handledUpTo`). */
  messages: readonly KafkaMessage[];
  /** Keeps the group membership alive while answers wait (retries, simulated latency). */
  heartbeat: () => Promise<void>;
  /** The chunk's spans: each record's span starts and ends here. */
  trace: ChunkTrace;
}

/** What a processor made of a chunk. */
export interface ChunkAnswers<Row> {
  answers: Answer[];
  /** Results, dead letters, forwards and changelog rows, in the order they are written. */
  outputs: OutputRecord[];
  /** What the store takes once the transaction committed, oldest first. */
  rows: Row[];
}

/** One kind of task's processing. */
export interface ChunkProcessor<Row, S> {
  answer(chunk: Chunk<S>): Promise<ChunkAnswers<Row>>;
  /** Called after the commit, once the store took the rows (caches, say). */
  committed?(partition: number, rows: readonly Row[]): void;
  /** Forgets what is cached in memory about a partition (it moved away, or its store was reopened). */
  forget?(partition: number): void;
}

/** How often a chunk being answered heartbeats (kafkajs sends one per heartbeatInterval). */
export const HEARTBEAT_EVERY_MS = 500;

/**
 * A heartbeat that calls through at most every {@linkcode HEARTBEAT_EVERY_MS}: answers
 * can wait (simulated latency, retries), so the membership is kept alive, but not with
 * a call per record when they do not.
 */
export function pacedHeartbeat(heartbeat: () => Promise<void>): () => Promise<void> {
  let beatAt = performance.now();
  return async () => {
    if (performance.now() - beatAt <= HEARTBEAT_EVERY_MS) return;
    await heartbeat();
    beatAt = performance.now();
  };
}
