/**
 * The payment worker: a kafkajs consumer group member that turns every input record
 * into exactly one committed result or dead letter, and remembers what it decided.
 *
 * Exactly once: each assigned partition gets its own transactional producer
 * (`partitions.ts`), which fences any earlier owner. The answers of up to
 * `maxRecordsPerTransaction` records, their changelog records and the consumed
 * offset go in one transaction (`transaction.ts`); the partition's store is updated
 * only after that commit. Records the store says were answered already (by a fenced
 * predecessor whose commit landed after our offsets were read) are skipped.
 *
 * @module
 */
import type { Admin, CompressionTypes, Consumer, EachBatchPayload } from "kafkajs";
import { type Logger, withContext } from "@logtape/logtape";
import { isProducerFenced } from "@payments/shared/kafka_errors";
import { observeWithExemplar } from "@payments/shared/metrics";
import { readRecordHeaders } from "@payments/shared/record_headers";
import type { TopicNames } from "@payments/shared/topics";
import { type Answer, createAnswerer, type RecordToAnswer } from "./answer.ts";
import { createAttempts, type FaultInjector } from "./attempts.ts";
import { ChunkDecisions } from "./chunk_decisions.ts";
import type { ConsumerSettings } from "./config.ts";
import { createCrashHandler, describeCrashCause } from "./crash.ts";
import type { ConsumerMetrics } from "./metrics.ts";
import { createNaiveTimestampNotice } from "./naive_timestamps.ts";
import type { OwnedPartition, Partitions } from "./partitions.ts";
import { parseRecord } from "./processor.ts";
import { type ChangelogEntry, progressRecord } from "./store/changelog_records.ts";
import type { RecentIds } from "./store/recent_ids.ts";
import type { VelocityFollower } from "./store/velocity_follower.ts";
import type { VelocityTracker } from "./store/velocity.ts";
import { type Committed, commitTransaction, TransactionError } from "./transaction.ts";

export { TransientError } from "@payments/shared/kafka_errors";
export type { FaultInjector } from "./attempts.ts";
export { transactionalIdFor } from "./partitions.ts";

/** Everything the worker needs. */
export interface WorkerDeps {
  consumer: Consumer;
  admin: Admin;
  partitions: Partitions;
  follower: VelocityFollower;
  velocity: VelocityTracker;
  recent: RecentIds;
  /** Checks the topics the worker needs before it joins the group (throws to refuse). */
  checkTopics: () => Promise<void>;
  topics: TopicNames;
  groupId: string;
  settings: ConsumerSettings;
  metrics: ConsumerMetrics;
  logger: Logger;
  compression?: CompressionTypes;
  faults?: FaultInjector;
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/** The worker as main.ts and the HTTP server see it. */
export interface Worker {
  start(): Promise<void>;
  /** Stops fetching, finishes in-flight batches, leaves the group, disconnects. */
  stop(): Promise<void>;
  status(): WorkerStatus;
}

/** What /ready reports. */
export interface WorkerStatus {
  state: "starting" | "waiting" | "assigned" | "restarting" | "crashed" | "stopped";
  assignedPartitions: number[];
  memberId?: string;
  lastKafkaContact?: number;
}

/** How often a chunk being answered heartbeats (kafkajs sends one per heartbeatInterval). */
const HEARTBEAT_EVERY_MS = 500;

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Heartbeats while `work` runs (a restore can outlast the session timeout). Resolves
 * as soon as `work` does: a partition already prepared costs nothing here.
 */
async function heartbeating<T>(work: Promise<T>, heartbeat: () => Promise<void>): Promise<T> {
  const timer = setInterval(() => void heartbeat().catch(() => {}), HEARTBEAT_EVERY_MS);
  try {
    return await work;
  } finally {
    clearInterval(timer);
  }
}

/** Creates the worker; nothing happens until `start()`. */
export function createWorker(deps: WorkerDeps): Worker {
  const { consumer, admin, partitions, topics, groupId, settings, metrics, logger } = deps;
  const sleep = deps.sleep ?? defaultSleep;
  let assigned: number[] = [];
  let state: WorkerStatus["state"] = "starting";
  let memberId: string | undefined;
  let lastKafkaContact: number | undefined;
  const partitionCounts = { results: 0, dlq: 0 };
  const touch = () => lastKafkaContact = Date.now();
  const noticeNaive = createNaiveTimestampNotice({ counter: metrics.naiveTimestamps, logger });
  const onCrash = createCrashHandler({
    admin,
    topic: topics.requests,
    groupId,
    errors: metrics.errors,
    logger,
  });

  const answer = createAnswerer({
    topics,
    partitionCounts,
    attempt: createAttempts({
      settings,
      metrics,
      topic: topics.requests,
      logger,
      ...(deps.faults ? { faults: deps.faults } : {}),
      ...(deps.random ? { random: deps.random } : {}),
      sleep,
    }),
  });

  /** Parses a chunk and looks up, once, which of its payment ids were decided before. */
  function readChunk(
    partition: number,
    store: OwnedPartition["store"],
    messages: EachBatchPayload["batch"]["messages"],
  ) {
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
    return { records, decisions: new ChunkDecisions(decidedBefore, deps.velocity, settings.rules) };
  }

  /** Bookkeeping after a commit: store, caches, metrics, one log line per record. */
  function afterCommit(
    owned: OwnedPartition,
    answers: Answer[],
    last: number,
    committed: Committed,
  ) {
    const { partition, store } = owned;
    const now = Date.now();
    const changes: ChangelogEntry[] = [];
    for (const a of answers) {
      if (a.decided) {
        changes.push({ kind: "decision", decision: a.decided });
        deps.velocity.add(a.decided.customerId, a.decided.paymentId, a.decided.createdAtMs);
      }
      if (a.kind === "result" && a.event) deps.recent.add(partition, a.event.payment_id);
      // After the commit, not when read: a chunk whose transaction failed is read again.
      if (a.naiveCreatedAt && a.event) noticeNaive(a.event);
    }
    changes.push({ kind: "progress", progress: { inputPartition: partition, inputOffset: last } });
    store.apply(changes, committed.changelogEnd, now);
    metrics.stateEntries.labels(String(partition)).set(store.entries);
    touch();
    metrics.transactionDuration.labels("committed").observe(committed.seconds);
    metrics.transactionRecords.observe(answers.length);
    for (const a of answers) {
      const status = a.kind === "result" ? "success" : "failed";
      metrics.consumed.labels(topics.requests, status).inc();
      const exemplar = { traceparent: a.trace.traceparent, correlationId: a.trace.correlation_id };
      observeWithExemplar(
        metrics.processingDuration,
        { topic: topics.requests, status },
        a.processingSeconds,
        exemplar,
      );
      if (a.kind === "result" && a.event) {
        const createdAt = Date.parse(a.event.created_at);
        observeWithExemplar(
          metrics.endToEndLatency,
          { topic: topics.requests },
          Math.max(0, (now - createdAt) / 1000),
          exemplar,
        );
      }
      if (a.outcome) metrics.results.labels(a.outcome).inc();
      if (a.dlqReason) metrics.deadLetters.labels(a.dlqReason).inc();
      withContext(a.trace, () => {
        const fields = {
          payment_id: a.event?.payment_id ?? null,
          partition,
          offset: a.offset,
          processing_ms: Math.round(a.processingSeconds * 1000 * 100) / 100,
          commit_ms: Math.round(committed.seconds * 1000 * 100) / 100,
          ...a.log,
        };
        if (a.kind === "result") {
          logger.info("Payment {payment_id} {outcome}", fields);
        } else {
          logger.warn("Record {partition}@{offset} dead-lettered: {reason}", fields);
        }
      });
    }
  }

  /** Answers the fresh records of one chunk; the outputs end with the chunk's progress record. */
  async function answerChunk(
    owned: OwnedPartition,
    chunk: EachBatchPayload["batch"]["messages"],
    heartbeat: () => Promise<void>,
  ) {
    const { partition, store } = owned;
    const fresh = chunk.filter((m) => Number(m.offset) > store.handledUpTo);
    const { records, decisions } = readChunk(partition, store, fresh);
    const answers: Answer[] = [];
    let beatAt = performance.now();
    for (const record of records) {
      answers.push(await withContext(record.trace, () => answer(record, decisions)));
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
      ...answers.flatMap((a) => a.changelog ? [a.changelog] : []),
      progressRecord({ inputPartition: partition, inputOffset: last }, topics.decisions),
    ];
    return { answers, last, outputs };
  }

  /** Counts and logs a failed transaction and gives the partition up until it is prepared again. */
  async function transactionFailed(partition: number, first: string, last: number, error: unknown) {
    const fenced = isProducerFenced(error);
    if (error instanceof TransactionError) {
      metrics.transactionDuration.labels("aborted").observe(error.seconds);
    }
    metrics.errors.labels(fenced ? "fenced" : "transaction").inc();
    logger.error(
      "Transaction for partition {partition} offsets {first}..{last} failed{fenced}: {reason}",
      {
        partition,
        first,
        last,
        fenced: fenced ? " (fenced)" : "",
        reason: describeCrashCause(error),
      },
    );
    await partitions.release(partition, false);
    await sleep(settings.retryBackoffMs);
  }

  async function eachBatch(payload: EachBatchPayload): Promise<void> {
    const { batch, resolveOffset, heartbeat, isRunning, isStale } = payload;
    const partition = batch.partition;
    touch();
    let owned: OwnedPartition;
    try {
      owned = await heartbeating(partitions.ready(partition), heartbeat);
    } catch (error) {
      logger.error("Cannot prepare partition {partition}: {reason}", {
        partition,
        reason: describeCrashCause(error),
      });
      await sleep(settings.retryBackoffMs);
      return; // nothing resolved: the same records are fetched again
    }
    const messages = batch.messages;
    for (let i = 0; i < messages.length; i += settings.maxRecordsPerTransaction) {
      if (!isRunning() || isStale()) return;
      const chunk = messages.slice(i, i + settings.maxRecordsPerTransaction);
      const { answers, last, outputs } = await answerChunk(owned, chunk, heartbeat);
      let committed: Committed;
      try {
        committed = await commitTransaction(owned.producer, {
          outputs,
          groupId,
          input: { topic: topics.requests, partition, nextOffset: last + 1 },
          changelog: { topic: topics.decisions, partition },
          ...(deps.compression === undefined ? {} : { compression: deps.compression }),
        });
      } catch (error) {
        await transactionFailed(partition, chunk[0]!.offset, last, error);
        // Nothing resolved: kafkajs fetches these records again; if the partition
        // moved, the heartbeat makes this member rejoin.
        await heartbeat();
        return;
      }
      try {
        afterCommit(owned, answers, last, committed);
      } catch (error) {
        // Kafka has the answers; the store is only behind. Preparing the partition
        // again reads what it missed from the changelog before anything is decided.
        metrics.errors.labels("state_store").inc();
        logger.error("Cannot update the store of partition {partition}: {error}", {
          partition,
          error,
        });
        resolveOffset(String(last));
        await partitions.release(partition, false);
        return;
      }
      resolveOffset(String(last));
      await heartbeat();
    }
  }

  function onAssignment(next: number[]) {
    const revoked = assigned.filter((p) => !next.includes(p));
    const added = next.filter((p) => !assigned.includes(p));
    if (revoked.length > 0) metrics.rebalances.labels("revoke").inc();
    metrics.rebalances.labels("assign").inc();
    assigned = next;
    metrics.activePartitions.set(next.length);
    state = next.length > 0 ? "assigned" : "waiting";
    for (const partition of revoked) void partitions.release(partition, true);
    if (added.length > 0) partitions.prepare(added);
    logger.info("Rebalance: assigned {assigned}, added {added}, revoked {revoked}", {
      assigned: next,
      added,
      revoked,
      member_id: memberId,
    });
  }

  // start() may be retried after Kafka was unreachable: listen only once.
  let listening = false;
  function listen() {
    if (listening) return;
    listening = true;
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      memberId = payload.memberId;
      touch();
      const mine = payload.memberAssignment[topics.requests] ?? [];
      onAssignment([...mine].sort((a, b) => a - b));
    });
    consumer.on(consumer.events.HEARTBEAT, touch);
    consumer.on(consumer.events.FETCH, touch);
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      state = onCrash(payload);
    });
    consumer.on(consumer.events.REBALANCING, () => {
      logger.info("Group {group} is rebalancing", { group: groupId });
    });
  }

  async function countPartitions() {
    const { topics: meta } = await admin.fetchTopicMetadata({
      topics: [topics.results, topics.dlq],
    });
    const count = (name: string) => meta.find((t) => t.name === name)?.partitions.length ?? 0;
    partitionCounts.results = count(topics.results);
    partitionCounts.dlq = count(topics.dlq);
    if (partitionCounts.results === 0 || partitionCounts.dlq === 0) {
      throw new Error(`the topics ${topics.results} and ${topics.dlq} must exist`);
    }
  }

  return {
    async start() {
      listen();
      await deps.checkTopics();
      await countPartitions();
      await deps.follower.start();
      await consumer.connect();
      await consumer.subscribe({ topics: [topics.requests], fromBeginning: true });
      state = "waiting";
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: settings.partitionsConsumedConcurrently,
        eachBatch,
      });
    },
    async stop() {
      await consumer.stop();
      await consumer.disconnect();
      state = "stopped";
      await partitions.releaseAll();
      assigned = [];
      metrics.activePartitions.set(0);
      await deps.follower.stop();
    },
    status() {
      return {
        state,
        assignedPartitions: [...assigned],
        ...(memberId ? { memberId } : {}),
        ...(lastKafkaContact ? { lastKafkaContact } : {}),
      };
    },
  };
}
