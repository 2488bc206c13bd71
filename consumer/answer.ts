/**
 * One input record turned into its answer: a result (and, for a decided payment,
 * its changelog record) or a dead letter. Parsing and the business rules are pure
 * (`processor.ts`); the attempts may wait and retry; nothing here writes to Kafka.
 *
 * @module
 */
import type { KafkaMessage } from "kafkajs";
import type { PaymentEvent } from "@payments/shared/payment";
import type { TopicNames } from "@payments/shared/topics";
import type { AttemptsOutcome } from "./attempts.ts";
import type { ChunkDecisions } from "./chunk_decisions.ts";
import { buildDlqRecord, type DlqReason } from "./dlq.ts";
import { type Decision, type Parsed, toResult } from "./processor.ts";
import { buildResultRecord, type OutputRecord } from "./results.ts";
import { type Decision as ChangelogDecision, decisionRecord } from "./store/changelog_records.ts";

/** A record's trace context: from its headers, else from the payment. */
export type Trace = {
  correlation_id: string;
  traceparent: string;
};

/** What a record ends as, before the transaction that writes it. */
export interface Answer {
  offset: number;
  kind: "result" | "dlq";
  /** The result or dead letter. */
  output: OutputRecord;
  /** The changelog record of a decided payment (not for DUPLICATE or dead letters). */
  changelog?: OutputRecord;
  decided?: ChangelogDecision;
  outcome?: Decision["outcome"];
  dlqReason?: DlqReason;
  event?: PaymentEvent;
  /** The payment's `created_at` had no offset (read as UTC); counted once it commits. */
  naiveCreatedAt?: boolean;
  trace: Trace;
  processingSeconds: number;
  /** Fields of the record's log line. */
  log: Record<string, unknown>;
}

/** One record to answer. */
export interface RecordToAnswer {
  message: KafkaMessage;
  partition: number;
  parsed: Parsed;
  trace: Trace;
  traceparent: string | undefined;
}

/** What answering needs. */
export interface AnswerDeps {
  topics: TopicNames;
  /** Partition counts of the results and DLQ topics. */
  partitionCounts: { results: number; dlq: number };
  attempt: (event: PaymentEvent) => Promise<AttemptsOutcome>;
  now?: () => number;
}

/** Creates the function answering one record with the chunk's decision bookkeeping. */
export function createAnswerer(
  deps: AnswerDeps,
): (record: RecordToAnswer, decisions: ChunkDecisions) => Promise<Answer> {
  const { topics, partitionCounts } = deps;
  const now = deps.now ?? Date.now;
  return async ({ message, partition, parsed, trace, traceparent }, decisions) => {
    const started = performance.now();
    const source = { topic: topics.requests, partition, offset: message.offset };
    const offset = Number(message.offset);
    const elapsed = () => (performance.now() - started) / 1000;
    const deadLetter = (reason: DlqReason, error: string, attempts: number): Answer => ({
      offset,
      kind: "dlq",
      output: buildDlqRecord(
        message,
        source,
        { reason, error, attempts, failedAt: new Date(now()) },
        topics.dlq,
        partitionCounts.dlq,
      ),
      dlqReason: reason,
      trace,
      processingSeconds: elapsed(),
      log: { reason, error, attempts },
      ...(parsed.kind === "payment"
        ? { event: parsed.event, naiveCreatedAt: parsed.naiveCreatedAt }
        : {}),
    });
    if (parsed.kind === "poison") return deadLetter(parsed.reason, parsed.error, 1);
    const event = parsed.event;
    const attempts = await deps.attempt(event);
    if (!attempts.ok) return deadLetter("processing_failed", attempts.error, attempts.attempts);

    const decision = decisions.decide(event);
    const decidedAt = now();
    const result = toResult(event, decision, new Date(decidedAt));
    const output = buildResultRecord(
      result,
      source,
      { correlationId: trace.correlation_id, traceparent },
      topics.results,
      partitionCounts.results,
    );
    const answer: Answer = {
      offset,
      kind: "result",
      output,
      outcome: decision.outcome,
      event,
      naiveCreatedAt: parsed.naiveCreatedAt,
      trace,
      processingSeconds: elapsed(),
      log: { outcome: decision.outcome, reason: decision.reason },
    };
    if (decision.outcome === "DUPLICATE") return answer;
    const decided: ChangelogDecision = {
      paymentId: event.payment_id,
      outcome: decision.outcome,
      customerId: event.customer_id,
      createdAtMs: Date.parse(event.created_at),
      decidedAtMs: decidedAt,
      inputPartition: partition,
      inputOffset: offset,
    };
    return { ...answer, decided, changelog: decisionRecord(decided, topics.decisions) };
  };
}
