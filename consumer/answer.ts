/**
 * One input record turned into its answer: a result (and, for a decided payment,
 * its changelog record) or a dead letter. Parsing and the business rules are pure
 * (`processor.ts`); the attempts may wait and retry; nothing here writes to Kafka.
 *
 * @module
 */
import type { KafkaMessage } from "kafkajs";
import type { TopicNames } from "@payments/shared/topics";
import type { AttemptsOutcome } from "./attempts.ts";
import type { ChunkDecisions } from "./chunk_decisions.ts";
import { buildDlqRecord, type DlqReason } from "./dlq.ts";
import type { Outcome, PaymentEvent } from "@payments/shared/payment";
import { type Parsed, toResult } from "./processor.ts";
import { buildResultRecord, type OutputRecord } from "./results.ts";
import { type DecidedPayment, decisionRecord } from "./store/changelog_records.ts";

/** A record's trace context: from its headers, else from the payment. */
export type Trace = {
  correlation_id: string;
  traceparent: string;
};

/** What every answer has, before the transaction that writes it. */
interface AnswerBase {
  offset: number;
  /** The result or dead letter. */
  output: OutputRecord;
  trace: Trace;
  processingSeconds: number;
  /** Fields of the record's log line. */
  log: Record<string, unknown>;
}

/** A payment approved or declined now: a result and the changelog record remembering it. */
export interface DecidedAnswer extends AnswerBase {
  kind: "decided";
  outcome: Exclude<Outcome, "DUPLICATE">;
  event: PaymentEvent;
  /** The payment's `created_at` had no offset (read as UTC); counted once it commits. */
  naiveCreatedAt: boolean;
  decided: DecidedPayment;
  changelog: OutputRecord;
}

/** A repeat of a payment decided before: a DUPLICATE result, nothing remembered. */
export interface DuplicateAnswer extends AnswerBase {
  kind: "duplicate";
  outcome: "DUPLICATE";
  event: PaymentEvent;
  naiveCreatedAt: boolean;
}

/** A record dead-lettered: unparseable, or its processing kept failing. */
export interface DeadLetterAnswer extends AnswerBase {
  kind: "dead_letter";
  reason: DlqReason;
  /** Present when the record was a payment (its processing failed). */
  event?: PaymentEvent;
  naiveCreatedAt?: boolean;
}

/** What a record ends as. */
export type Answer = DecidedAnswer | DuplicateAnswer | DeadLetterAnswer;

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
      kind: "dead_letter",
      output: buildDlqRecord(
        message,
        source,
        { reason, error, attempts, failedAt: new Date(now()) },
        topics.dlq,
        partitionCounts.dlq,
      ),
      reason,
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

    const verdict = decisions.decide(event);
    const decidedAt = now();
    const result = toResult(event, verdict, new Date(decidedAt));
    const output = buildResultRecord(
      result,
      source,
      { correlationId: trace.correlation_id, traceparent },
      topics.results,
      partitionCounts.results,
    );
    const common = {
      offset,
      output,
      event,
      naiveCreatedAt: parsed.naiveCreatedAt,
      trace,
      processingSeconds: elapsed(),
      log: { outcome: verdict.outcome, reason: verdict.reason },
    };
    if (verdict.outcome === "DUPLICATE") {
      return { ...common, kind: "duplicate", outcome: "DUPLICATE" };
    }
    const decided: DecidedPayment = {
      paymentId: event.payment_id,
      outcome: verdict.outcome,
      customerId: event.customer_id,
      createdAtMs: Date.parse(event.created_at),
      decidedAtMs: decidedAt,
      inputPartition: partition,
      inputOffset: offset,
    };
    return {
      ...common,
      kind: "decided",
      outcome: verdict.outcome,
      decided,
      changelog: decisionRecord(decided, topics.decisions),
    };
  };
}
