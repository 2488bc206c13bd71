/**
 * One input partition's processing, Kafka Streams' StreamTask: the partition's store,
 * its transactional producer, and the cycle that answers a chunk of records, commits
 * the answers with the consumed offset, and only then updates the store and caches
 * and reports the commit (one summary, one place).
 *
 * @module
 */
import type { CompressionTypes, KafkaMessage, Producer } from "kafkajs";
import { withContext } from "@logtape/logtape";
import { readRecordHeaders } from "@payments/shared/record_headers";
import type { TopicNames } from "@payments/shared/topics";
import type { Answer, RecordToAnswer } from "../answer.ts";
import { ChunkDecisions } from "../chunk_decisions.ts";
import type { Rules } from "../config.ts";
import { parseRecord } from "../processor.ts";
import { type ChangelogEntry, progressRecord } from "../store/changelog_records.ts";
import type { PartitionStore } from "../store/partition_store.ts";
import type { RecentIds } from "../store/recent_ids.ts";
import type { VelocityTracker } from "../store/velocity.ts";
import { type Committed, commitTransaction } from "../transaction.ts";
import type { CommitReporter } from "./commit_report.ts";

/** How often a chunk being answered heartbeats (kafkajs sends one per heartbeatInterval). */
export const HEARTBEAT_EVERY_MS = 500;

/** Answers one record with the chunk's decision bookkeeping. */
export type Answerer = (record: RecordToAnswer, decisions: ChunkDecisions) => Promise<Answer>;

/** What a task is built from. */
export interface PartitionTaskDeps {
  partition: number;
  /** Connected, its transactional id initialised (the previous owner fenced). */
  producer: Producer;
  /** Restored: agrees with the changelog. */
  store: PartitionStore;
  answer: Answerer;
  velocity: VelocityTracker;
  recent: RecentIds;
  rules: Rules;
  topics: TopicNames;
  groupId: string;
  report: CommitReporter;
  compression?: CompressionTypes;
  now?: () => number;
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
export interface PartitionTask {
  readonly partition: number;
  readonly store: PartitionStore;
  /** Answers and commits one chunk (at most a transaction's worth of records). */
  process(chunk: readonly KafkaMessage[], heartbeat: () => Promise<void>): Promise<ChunkOutcome>;
  /** Closes the store and disconnects the producer. */
  close(): Promise<void>;
}

/** Creates a task for a prepared partition. */
export function createPartitionTask(deps: PartitionTaskDeps): PartitionTask {
  const { partition, producer, store, topics, report } = deps;
  const now = deps.now ?? Date.now;

  /** Parses a chunk and looks up, once, which of its payment ids were decided before. */
  function readChunk(messages: readonly KafkaMessage[]) {
    const records: RecordToAnswer[] = messages.map((message) => {
      const headers = readRecordHeaders(message.headers);
      const parsed = parseRecord(message.value);
      return {
        message,
        partition,
        parsed,
        traceparent: headers.traceparent,
        trace: {
          correlation_id: headers.correlationId ??
            (parsed.kind === "payment" ? parsed.event.correlation_id : "unknown"),
          traceparent: headers.traceparent ?? "",
        },
      };
    });
    const decidedBefore = new Set<string>();
    const lookUp: string[] = [];
    for (const { parsed } of records) {
      if (parsed.kind !== "payment") continue;
      const id = parsed.event.payment_id;
      if (deps.recent.has(partition, id)) decidedBefore.add(id);
      else lookUp.push(id);
    }
    for (const id of store.decided(lookUp)) decidedBefore.add(id);
    return { records, decisions: new ChunkDecisions(decidedBefore, deps.velocity, deps.rules) };
  }

  /** Answers the fresh records of a chunk; the outputs end with the chunk's progress record. */
  async function answerChunk(chunk: readonly KafkaMessage[], heartbeat: () => Promise<void>) {
    const fresh = chunk.filter((m) => Number(m.offset) > store.handledUpTo);
    const { records, decisions } = readChunk(fresh);
    const answers: Answer[] = [];
    let beatAt = performance.now();
    for (const record of records) {
      answers.push(await withContext(record.trace, () => deps.answer(record, decisions)));
      // Answers can wait (simulated latency, retries): keep the membership alive, but
      // not with a call per record when they do not.
      if (performance.now() - beatAt > HEARTBEAT_EVERY_MS) {
        await heartbeat();
        beatAt = performance.now();
      }
    }
    const last = Number(chunk[chunk.length - 1]!.offset);
    const outputs = [
      ...answers.map((a) => a.output),
      ...answers.flatMap((a) => a.kind === "decided" ? [a.changelog] : []),
      progressRecord({ inputPartition: partition, inputOffset: last }, topics.decisions),
    ];
    return { answers, last, outputs };
  }

  /** The store and caches take what was committed. */
  function applyCommitted(answers: readonly Answer[], last: number, committed: Committed) {
    const changes: ChangelogEntry[] = [];
    for (const a of answers) {
      if (a.kind === "decided") {
        changes.push({ kind: "decision", decision: a.decided });
        deps.velocity.add(a.decided.customerId, a.decided.paymentId, a.decided.createdAtMs);
      }
      if (a.kind !== "dead_letter") deps.recent.add(partition, a.event.payment_id);
    }
    changes.push({ kind: "progress", progress: { inputPartition: partition, inputOffset: last } });
    store.apply(changes, committed.changelogEnd, now());
  }

  return {
    partition,
    store,
    async process(chunk, heartbeat) {
      const { answers, last, outputs } = await answerChunk(chunk, heartbeat);
      let committed: Committed;
      try {
        committed = await commitTransaction(producer, {
          outputs,
          groupId: deps.groupId,
          input: { topic: topics.requests, partition, nextOffset: last + 1 },
          changelog: { topic: topics.decisions, partition },
          ...(deps.compression === undefined ? {} : { compression: deps.compression }),
        });
      } catch (error) {
        report.failed(partition, chunk[0]!.offset, last, error);
        return { kind: "failed" };
      }
      const committedAtMs = now();
      try {
        applyCommitted(answers, last, committed);
      } catch (error) {
        report.storeBehind(partition, error);
        return { kind: "store_behind", last };
      }
      report.committed({
        partition,
        answers,
        seconds: committed.seconds,
        committedAtMs,
        storeEntries: store.entries,
      });
      return { kind: "committed", last };
    },
    async close() {
      store.close();
      await producer.disconnect();
    },
  };
}
