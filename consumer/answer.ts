/**
 * What an input record ends as, before the transaction that writes it. The payment
 * tasks answer requests (claimed and forwarded, DUPLICATE, or dead-lettered); the
 * customer tasks answer forwards (approved or declined, or dead-lettered). Nothing
 * here writes to Kafka: the outputs travel beside the answers, and the answers say
 * what to count and log once the transaction committed.
 *
 * @module
 */
import type { Span } from "@opentelemetry/api";
import type { PaymentEvent } from "@payments/shared/payment";
import type { Decision } from "./customers/decision_records.ts";
import type { DlqReason } from "./dlq.ts";
import type { Claim } from "./payments/claim_records.ts";

/**
 * What every log line about a record carries (LogTape's implicit context): its
 * correlation id (from its headers or forward, else from the payment) and the ids of
 * the span that processed it (none without `OTEL_DENO`).
 */
export type Trace = {
  correlation_id: string;
  trace_id?: string;
  span_id?: string;
};

/** What every answer has. */
interface AnswerBase {
  /** The input record's offset. */
  offset: number;
  trace: Trace;
  /** The record's span (`tasks/chunk_trace.ts`): its trace's commit span is its child. */
  span: Span;
  processingSeconds: number;
  /** Fields of the record's log line. */
  log: Record<string, unknown>;
}

/** A new payment, claimed on its request partition and forwarded to its customer's task. */
export interface ClaimedAnswer extends AnswerBase {
  kind: "claimed";
  event: PaymentEvent;
  /** The payment's `created_at` had no offset (read as UTC); counted once it commits. */
  naiveCreatedAt: boolean;
  claim: Claim;
}

/** A repeat of a claimed payment: a DUPLICATE result, and the claim's repeats counted. */
export interface DuplicateAnswer extends AnswerBase {
  kind: "duplicate";
  outcome: "DUPLICATE";
  event: PaymentEvent;
  naiveCreatedAt: boolean;
  claim: Claim;
}

/** A payment approved or declined by its customer's task: a result and its decision. */
export interface DecidedAnswer extends AnswerBase {
  kind: "decided";
  outcome: Decision["outcome"];
  event: PaymentEvent;
  decision: Decision;
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
export type Answer = ClaimedAnswer | DuplicateAnswer | DecidedAnswer | DeadLetterAnswer;
