/**
 * The payment worker: a kafkajs consumer group member that turns every input record
 * into exactly one committed result or dead letter.
 *
 * Exactly once: each assigned partition gets its own transactional producer whose
 * `transactionalId` is derived from group, topic and partition. Initialising it fences
 * any earlier owner of the partition (a zombie after a rebalance, or a SIGKILLed
 * process whose open transaction is aborted). Results, dead letters and the consumed
 * offset (`sendOffsets`) of up to `maxRecordsPerTransaction` records go in one
 * transaction. Before processing a partition the worker waits until the history
 * follower has read the results and DLQ partitions up to their last stable offset,
 * so de-duplication state and "already answered" offsets come from Kafka.
 *
 * @module
 */
import type { Admin, Consumer, EachBatchPayload, KafkaMessage, Producer } from "kafkajs";
import { type Logger, withContext } from "@logtape/logtape";
import { observeWithExemplar } from "@payments/shared/metrics";
import type { PaymentEvent } from "@payments/shared/payment";
import { readRecordHeaders } from "@payments/shared/record_headers";
import type { TopicNames } from "@payments/shared/topics";
import type { ConsumerSettings } from "./config.ts";
import { type DedupWindow, VELOCITY_WINDOW_MS, type VelocityTracker } from "./dedup.ts";
import { buildDlqRecord, type DlqReason } from "./dlq.ts";
import type { History } from "./history.ts";
import type { ConsumerMetrics } from "./metrics.ts";
import { backoffMs, decide, type Decision, parseRecord, toResult } from "./processor.ts";
import { buildResultRecord, type OutputRecord } from "./results.ts";
import { chunkBySize } from "./send_chunks.ts";

/** A failure worth retrying (simulated or real). */
export class TransientError extends Error {
  override name = "TransientError";
  readonly retriable = true;
}

/** Injected fault: called before each processing attempt; throw {@linkcode TransientError} to fail it. */
export type FaultInjector = (event: PaymentEvent, attempt: number) => void | Promise<void>;

/** Everything the worker needs. */
export interface WorkerDeps {
  consumer: Consumer;
  admin: Admin;
  /** A transactional producer for one partition (not yet connected). */
  createProducer: (transactionalId: string) => Producer;
  history: History;
  dedup: DedupWindow;
  velocity: VelocityTracker;
  topics: TopicNames;
  groupId: string;
  settings: ConsumerSettings;
  metrics: ConsumerMetrics;
  logger: Logger;
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
  state: "starting" | "waiting" | "assigned" | "stopped" | "crashed";
  assignedPartitions: number[];
  memberId?: string;
  lastKafkaContact?: number;
}

interface PartitionState {
  ready: Promise<Producer>;
}

interface Answer {
  offset: number;
  output: OutputRecord;
  log: Record<string, unknown>;
  kind: "result" | "dlq";
  outcome?: Decision["outcome"];
  dlqReason?: DlqReason;
  event?: PaymentEvent;
  trace: { correlation_id: string; traceparent: string };
  processingSeconds: number;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Transactional id of the producer for one input partition. */
export function transactionalIdFor(groupId: string, topic: string, partition: number): string {
  return `${groupId}.${topic}.${partition}`;
}

function isFenced(error: unknown): boolean {
  const e = error as { type?: string; name?: string; message?: string };
  return e?.type === "INVALID_PRODUCER_EPOCH" || e?.type === "PRODUCER_FENCED" ||
    /fenced|epoch/i.test(e?.message ?? "");
}

/** Creates the worker; nothing happens until `start()`. */
export function createWorker(deps: WorkerDeps): Worker {
  const { consumer, admin, history, dedup, velocity, topics, groupId, settings, metrics, logger } =
    deps;
  const random = deps.random ?? Math.random;
  const sleep = deps.sleep ?? defaultSleep;
  const partitions = new Map<number, PartitionState>();
  let assigned: number[] = [];
  let state: WorkerStatus["state"] = "starting";
  let memberId: string | undefined;
  let lastKafkaContact: number | undefined;
  let partitionCounts: { results: number; dlq: number } | undefined;

  const touch = () => lastKafkaContact = Date.now();

  async function highWatermarks(topic: string): Promise<Map<number, number>> {
    const offsets = await admin.fetchTopicOffsets(topic);
    return new Map(offsets.map((o) => [o.partition, Number(o.high)]));
  }

  async function prepare(partition: number): Promise<Producer> {
    const started = performance.now();
    const producer = deps.createProducer(transactionalIdFor(groupId, topics.requests, partition));
    try {
      await producer.connect();
      // An empty transaction initialises the producer id: this fences the previous
      // owner and aborts (or completes) whatever transaction it left open.
      await (await producer.transaction()).abort();
      const [results, dlq] = await Promise.all([
        highWatermarks(topics.results),
        highWatermarks(topics.dlq),
      ]);
      partitionCounts = { results: results.size, dlq: dlq.size };
      const resultsPartition = partition % results.size;
      const dlqPartition = partition % dlq.size;
      await history.waitFor([
        {
          topic: topics.results,
          partition: resultsPartition,
          offset: results.get(resultsPartition)!,
        },
        { topic: topics.dlq, partition: dlqPartition, offset: dlq.get(dlqPartition)! },
      ], settings.transactionTimeoutMs);
      logger.info("Partition {partition} ready: history restored up to offset {handled}", {
        partition,
        handled: history.handledUpTo(partition),
        dedup_ids: dedup.size(partition),
        restore_ms: Math.round(performance.now() - started),
      });
      return producer;
    } catch (error) {
      metrics.errors.labels("restore").inc();
      await producer.disconnect().catch(() => {});
      throw error;
    }
  }

  function ready(partition: number): Promise<Producer> {
    let entry = partitions.get(partition);
    if (!entry) {
      entry = { ready: prepare(partition) };
      partitions.set(partition, entry);
      entry.ready.catch(() => partitions.delete(partition));
    }
    return entry.ready;
  }

  async function release(partition: number): Promise<void> {
    const entry = partitions.get(partition);
    if (!entry) return;
    partitions.delete(partition);
    try {
      await (await entry.ready).disconnect();
    } catch {
      // Preparation failed or the producer is already gone: nothing to release.
    }
  }

  async function attempt(event: PaymentEvent, attemptNo: number): Promise<void> {
    const { min, max } = settings.simulatedLatencyMs;
    if (max > 0) await sleep(min + random() * (max - min));
    if (deps.faults) await deps.faults(event, attemptNo);
    if (settings.failureRate > 0 && random() < settings.failureRate) {
      throw new TransientError(`simulated transient failure (rate ${settings.failureRate})`);
    }
  }

  /** Decides one record, retrying transient failures; never throws for the record's sake. */
  async function answer(
    message: KafkaMessage,
    partition: number,
    pending: { ids: Set<string>; customers: Map<string, number[]> },
  ): Promise<Answer> {
    const started = performance.now();
    const headers = readRecordHeaders(message.headers);
    const source = { topic: topics.requests, partition, offset: message.offset };
    const counts = partitionCounts!;
    const parsed = parseRecord(message.value);
    const trace = {
      correlation_id: headers.correlationId ??
        (parsed.kind === "payment" ? parsed.event.correlation_id : "unknown"),
      traceparent: headers.traceparent ?? "",
    };
    const deadLetter = (reason: DlqReason, error: string, attempts: number): Answer => {
      const output = buildDlqRecord(
        message,
        source,
        { reason, error, attempts, failedAt: new Date() },
        topics.dlq,
        counts.dlq,
      );
      return {
        offset: Number(message.offset),
        output,
        kind: "dlq",
        dlqReason: reason,
        trace,
        processingSeconds: (performance.now() - started) / 1000,
        log: { reason, error, attempts },
        ...(parsed.kind === "payment" ? { event: parsed.event } : {}),
      };
    };
    if (parsed.kind === "poison") return deadLetter(parsed.reason, parsed.error, 1);
    const event = parsed.event;
    for (let n = 1;; n++) {
      try {
        await attempt(event, n);
        break;
      } catch (error) {
        metrics.errors.labels("processing").inc();
        const message = (error as Error).message;
        if (n >= settings.maxAttempts) {
          logger.warn("Payment {payment_id} failed {attempts} attempts: dead-lettering", {
            payment_id: event.payment_id,
            attempts: n,
            error: message,
          });
          return deadLetter("processing_failed", message, n);
        }
        const delay = backoffMs(n, settings.retryBackoffMs, settings.retryBackoffMaxMs);
        metrics.retries.labels(topics.requests).inc();
        logger.warn("Payment {payment_id} attempt {attempt} failed, retrying in {delay_ms} ms", {
          payment_id: event.payment_id,
          attempt: n,
          delay_ms: delay,
          error: message,
        });
        await sleep(delay);
      }
    }
    const createdAt = Date.parse(event.created_at);
    const seen = dedup.has(partition, event.payment_id) || pending.ids.has(event.payment_id);
    const pendingTimes = pending.customers.get(event.customer_id) ?? [];
    const inWindow = velocity.countInWindow(event.customer_id, createdAt) +
      pendingTimes.filter((t) => t > createdAt - VELOCITY_WINDOW_MS && t <= createdAt).length;
    const decision = decide(
      event,
      { seen, paymentsInLastMinute: inWindow + (seen ? 0 : 1) },
      settings.rules,
    );
    pending.ids.add(event.payment_id);
    if (!seen) pending.customers.set(event.customer_id, [...pendingTimes, createdAt]);
    const result = toResult(event, decision, new Date());
    const output = buildResultRecord(
      result,
      source,
      { correlationId: trace.correlation_id, traceparent: headers.traceparent },
      topics.results,
      counts.results,
    );
    return {
      offset: Number(message.offset),
      output,
      kind: "result",
      outcome: decision.outcome,
      event,
      trace,
      processingSeconds: (performance.now() - started) / 1000,
      log: { outcome: decision.outcome, reason: decision.reason },
    };
  }

  /** Writes answers and the next offset in one transaction. */
  async function commit(producer: Producer, partition: number, answers: Answer[], next: number) {
    const started = performance.now();
    const transaction = await producer.transaction();
    try {
      for (const chunk of chunkBySize(answers.map((answer) => answer.output))) {
        const byTopic = new Map<string, OutputRecord[]>();
        for (const output of chunk) {
          const records = byTopic.get(output.topic) ?? [];
          records.push(output);
          byTopic.set(output.topic, records);
        }
        await transaction.sendBatch({
          acks: -1,
          topicMessages: [...byTopic].map(([topic, records]) => ({
            topic,
            messages: records.map(({ key, value, headers, partition }) => ({
              key: key as string | null,
              value: value as string | null,
              headers: headers as Record<string, string>,
              partition,
            })),
          })),
        });
      }
      await transaction.sendOffsets({
        consumerGroupId: groupId,
        topics: [{ topic: topics.requests, partitions: [{ partition, offset: String(next) }] }],
      });
      await transaction.commit();
      touch();
      metrics.transactionDuration.labels("committed").observe((performance.now() - started) / 1000);
      metrics.transactionRecords.observe(answers.length);
    } catch (error) {
      metrics.transactionDuration.labels("aborted").observe((performance.now() - started) / 1000);
      if (transaction.isActive()) await transaction.abort().catch(() => {});
      throw error;
    }
    return (performance.now() - started) / 1000;
  }

  function afterCommit(partition: number, answers: Answer[], commitSeconds: number) {
    const now = Date.now();
    for (const a of answers) {
      history.markHandled(partition, a.offset);
      const status = a.kind === "result" ? "success" : "failed";
      metrics.consumed.labels(topics.requests, status).inc();
      const exemplar = { traceparent: a.trace.traceparent, correlationId: a.trace.correlation_id };
      observeWithExemplar(
        metrics.processingDuration,
        { topic: topics.requests, status },
        a.processingSeconds,
        exemplar,
      );
      if (a.event) {
        const createdAt = Date.parse(a.event.created_at);
        if (a.kind === "result") {
          dedup.add(partition, a.event.payment_id);
          if (a.outcome !== "DUPLICATE") {
            velocity.add(a.event.customer_id, a.event.payment_id, createdAt);
          }
          observeWithExemplar(
            metrics.endToEndLatency,
            { topic: topics.requests },
            Math.max(0, (now - createdAt) / 1000),
            exemplar,
          );
        }
      }
      if (a.outcome) metrics.results.labels(a.outcome).inc();
      if (a.dlqReason) metrics.deadLetters.labels(a.dlqReason).inc();
      withContext(a.trace, () => {
        const fields = {
          payment_id: a.event?.payment_id ?? null,
          partition,
          offset: a.offset,
          processing_ms: Math.round(a.processingSeconds * 1000 * 100) / 100,
          commit_ms: Math.round(commitSeconds * 1000 * 100) / 100,
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

  async function eachBatch(payload: EachBatchPayload): Promise<void> {
    const { batch, resolveOffset, heartbeat, isRunning, isStale } = payload;
    const partition = batch.partition;
    touch();
    let producer: Producer;
    try {
      producer = await ready(partition);
    } catch (error) {
      logger.error("Cannot prepare partition {partition}: {error}", { partition, error });
      await sleep(settings.retryBackoffMs);
      return; // nothing resolved: the same records are fetched again
    }
    const messages = batch.messages;
    for (let i = 0; i < messages.length; i += settings.maxRecordsPerTransaction) {
      if (!isRunning() || isStale()) return;
      const chunk = messages.slice(i, i + settings.maxRecordsPerTransaction);
      const pending = { ids: new Set<string>(), customers: new Map<string, number[]>() };
      const answers: Answer[] = [];
      for (const message of chunk) {
        if (Number(message.offset) <= history.handledUpTo(partition)) continue;
        const headers = readRecordHeaders(message.headers);
        answers.push(
          await withContext(
            {
              correlation_id: headers.correlationId ?? "unknown",
              traceparent: headers.traceparent ?? "",
            },
            () => answer(message, partition, pending),
          ),
        );
        await heartbeat();
      }
      const last = Number(chunk[chunk.length - 1]!.offset);
      let commitSeconds: number;
      try {
        commitSeconds = await commit(producer, partition, answers, last + 1);
      } catch (error) {
        const fenced = isFenced(error);
        metrics.errors.labels(fenced ? "fenced" : "transaction").inc();
        logger.error(
          "Transaction for partition {partition} offsets {first}..{last} failed{fenced}: {error}",
          { partition, first: chunk[0]!.offset, last, fenced: fenced ? " (fenced)" : "", error },
        );
        await release(partition);
        await sleep(settings.retryBackoffMs);
        // Nothing resolved: kafkajs fetches these records again; if the partition
        // moved, the heartbeat makes this member rejoin.
        await heartbeat();
        return;
      }
      afterCommit(partition, answers, commitSeconds);
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
    for (const partition of revoked) void release(partition);
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
      metrics.errors.labels("crash").inc();
      logger.error("Consumer crashed (restart: {restart}): {error}", {
        restart: payload.restart,
        error: payload.error,
      });
      if (!payload.restart) state = "crashed";
    });
    consumer.on(consumer.events.REBALANCING, () => {
      logger.info("Group {group} is rebalancing", { group: groupId });
    });
  }

  return {
    async start() {
      listen();
      await history.start();
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
      await Promise.all([...partitions.keys()].map(release));
      assigned = [];
      metrics.activePartitions.set(0);
      await history.stop();
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
