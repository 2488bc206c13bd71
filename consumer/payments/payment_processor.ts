/**
 * The first stage, a payment task's processing of its request partition (keyed by
 * payment id): every record is parsed and validated (poison is dead-lettered at
 * once), its processing attempts run (a payment that keeps failing is dead-lettered),
 * and then
 * - a payment id claimed before (this chunk, the cache, or the store) gets a DUPLICATE
 *   result, and its claim is written again with one more repeat;
 * - a new one is claimed (a changelog row) and forwarded to its customer's partition
 *   of the repartition topic, where a customer task decides it.
 * Claim, forward, result and dead letter of a chunk commit in one transaction, so a
 * payment is forwarded exactly once and never decided twice.
 *
 * Each record is processed in its span (`tasks/chunk_trace.ts`), a child of the
 * producer's send span its `traceparent` header carries; the forward carries this span's
 * context in its value, so the customer task's span continues the same trace.
 *
 * @module
 */
import type { Context, Span } from "@opentelemetry/api";
import type { KafkaMessage } from "kafkajs";
import { withContext } from "@logtape/logtape";
import { readRecordHeaders } from "@payments/shared/record_headers";
import { extractTraceContext, traceparentOf } from "@payments/shared/trace_context";
import { isSampled, traceIds } from "@payments/shared/tracing";
import type { TopicNames } from "@payments/shared/topics";
import type { Answer, Trace } from "../answer.ts";
import type { AttemptsOutcome } from "../attempts.ts";
import { buildDlqRecord, type DlqReason } from "../dlq.ts";
import { forwardRecord } from "../forwards.ts";
import { type Parsed, parseRecord, REASON, toResult } from "../processor.ts";
import { buildResultRecord, type OutputRecord } from "../results.ts";
import {
  type Chunk,
  type ChunkAnswers,
  type ChunkProcessor,
  pacedHeartbeat,
} from "../tasks/chunk.ts";
import type { PaymentEvent } from "@payments/shared/payment";
import { type Claim, claimRecord } from "./claim_records.ts";
import type { ClaimStore } from "./claim_store.ts";
import type { RecentClaims } from "./recent_claims.ts";

/** Partition counts of the topics a payment task writes (read once at start). */
export interface OutputPartitions {
  results: number;
  dlq: number;
  byCustomer: number;
}

/** What the payment processor needs. */
export interface PaymentProcessorDeps {
  topics: TopicNames;
  partitions: OutputPartitions;
  attempt: (event: PaymentEvent) => Promise<AttemptsOutcome>;
  recent: RecentClaims;
  now?: () => number;
}

interface RequestRecord {
  message: KafkaMessage;
  parsed: Parsed;
  correlationId: string;
  /** The context its headers carry (the producer's send span), else the root. */
  parent: Context;
}

function readRequest(message: KafkaMessage): RequestRecord {
  const headers = readRecordHeaders(message.headers);
  const parsed = parseRecord(message.value);
  return {
    message,
    parsed,
    correlationId: headers.correlationId ??
      (parsed.kind === "payment" ? parsed.event.correlation_id : "unknown"),
    parent: extractTraceContext(message.headers),
  };
}

type ParsedPayment = Extract<Parsed, { kind: "payment" }>;

/** One record being answered: where it came from, its trace, what the chunk holds. */
interface Answering {
  partition: number;
  message: KafkaMessage;
  offset: number;
  /** The request's coordinates, as the result and the dead letter name them. */
  source: { topic: string; partition: number; offset: string };
  trace: Trace;
  span: Span;
  /** `performance.now()` when its answering began. */
  started: number;
  /** The claims known for the chunk's ids, this chunk's own included. */
  known: Map<string, Claim>;
  out: ChunkAnswers<Claim>;
}

/** What every answer of a record carries. */
function answered(at: Answering) {
  return {
    offset: at.offset,
    trace: at.trace,
    span: at.span,
    processingSeconds: (performance.now() - at.started) / 1000,
  };
}

/** What every answer of a valid payment carries. */
function paymentAnswered(at: Answering, payment: ParsedPayment, claim: Claim) {
  return {
    ...answered(at),
    event: payment.event,
    naiveCreatedAt: payment.naiveCreatedAt,
    claim,
  };
}

/** Where a payment task's answers go, and its clock. */
interface Outputs {
  topics: TopicNames;
  partitions: OutputPartitions;
  now: () => number;
}

/** Dead-letters the record: unparseable, or its processing kept failing. */
function deadLetter(
  to: Outputs,
  at: Answering,
  parsed: Parsed,
  failure: { reason: DlqReason; error: string; attempts: number },
): Answer {
  const { reason, error, attempts } = failure;
  at.out.outputs.push({
    ...buildDlqRecord(
      at.message,
      at.source,
      { reason, error, attempts, failedAt: new Date(to.now()) },
      to.topics.dlq,
      to.partitions.dlq,
    ),
    ...(isSampled(at.span) ? { answers: at.span.spanContext() } : {}),
  });
  return {
    kind: "dead_letter",
    reason,
    ...answered(at),
    log: { reason, error, attempts },
    ...(parsed.kind === "payment"
      ? { event: parsed.event, naiveCreatedAt: parsed.naiveCreatedAt }
      : {}),
  };
}

/** A repeat: a DUPLICATE result, and its claim written again with one more repeat. */
function answerDuplicate(
  to: Outputs,
  at: Answering,
  payment: ParsedPayment,
  before: Claim,
): Answer {
  const claim = { ...before, duplicates: before.duplicates + 1 };
  at.known.set(claim.paymentId, claim);
  const verdict = { outcome: "DUPLICATE" as const, reason: REASON.duplicate };
  at.out.outputs.push(
    buildResultRecord(
      toResult(payment.event, verdict, new Date(to.now())),
      at.source,
      { correlationId: at.trace.correlation_id, traceparent: traceparentOf(at.span) },
      to.topics.results,
      to.partitions.results,
    ),
    claimRecord(claim, to.topics.decisions),
  );
  at.out.rows.push(claim);
  return {
    kind: "duplicate",
    outcome: "DUPLICATE",
    ...paymentAnswered(at, payment, claim),
    log: { outcome: verdict.outcome, reason: verdict.reason },
  };
}

/** A new payment: claimed here and forwarded to its customer's partition. */
function claimAndForward(to: Outputs, at: Answering, payment: ParsedPayment): Answer {
  const { event } = payment;
  const claim: Claim = {
    paymentId: event.payment_id,
    customerId: event.customer_id,
    createdAtMs: Date.parse(event.created_at),
    claimedAtMs: to.now(),
    inputPartition: at.partition,
    inputOffset: at.offset,
    correlationId: at.trace.correlation_id,
    duplicates: 0,
  };
  at.known.set(claim.paymentId, claim);
  const forward = forwardRecord(
    {
      event,
      request: { partition: at.partition, offset: at.offset },
      trace: {
        correlation_id: at.trace.correlation_id,
        traceparent: traceparentOf(at.span) ?? "",
      },
    },
    to.topics.byCustomer,
    to.partitions.byCustomer,
  );
  at.out.outputs.push(claimRecord(claim, to.topics.decisions), forward);
  at.out.rows.push(claim);
  return {
    kind: "claimed",
    ...paymentAnswered(at, payment, claim),
    log: { customer_partition: forward.partition },
  };
}

/** Creates the processor of the payment tasks. */
export function createPaymentProcessor(
  deps: PaymentProcessorDeps,
): ChunkProcessor<Claim, ClaimStore> {
  const { topics } = deps;
  const to: Outputs = { topics, partitions: deps.partitions, now: deps.now ?? Date.now };

  /** The claims known for the chunk's payment ids: cache first, then one store lookup. */
  function knownClaims(partition: number, store: ClaimStore, records: readonly RequestRecord[]) {
    const known = new Map<string, Claim>();
    const lookUp: string[] = [];
    for (const { parsed } of records) {
      if (parsed.kind !== "payment") continue;
      const id = parsed.event.payment_id;
      const cached = deps.recent.get(partition, id);
      if (cached) known.set(id, cached);
      else lookUp.push(id);
    }
    for (const [id, claim] of store.claimed(lookUp)) known.set(id, claim);
    return known;
  }

  async function answerOne(at: Answering, parsed: Parsed): Promise<Answer> {
    if (parsed.kind === "poison") {
      return deadLetter(to, at, parsed, {
        reason: parsed.reason,
        error: parsed.error,
        attempts: 1,
      });
    }
    const attempts = await deps.attempt(parsed.event);
    if (!attempts.ok) {
      return deadLetter(to, at, parsed, {
        reason: "processing_failed",
        error: attempts.error,
        attempts: attempts.attempts,
      });
    }
    const before = at.known.get(parsed.event.payment_id);
    return before ? answerDuplicate(to, at, parsed, before) : claimAndForward(to, at, parsed);
  }

  return {
    async answer({ partition, store, messages, heartbeat, trace: spans }: Chunk<ClaimStore>) {
      const records = messages.map(readRequest);
      const known = knownClaims(partition, store, records);
      const out: ChunkAnswers<Claim> = { answers: [], outputs: [] as OutputRecord[], rows: [] };
      const beat = pacedHeartbeat(heartbeat);
      for (const record of records) {
        const span = spans.startRecord(record.message, record.parent);
        const trace: Trace = { correlation_id: record.correlationId, ...traceIds(span) };
        const { message } = record;
        const at: Answering = {
          partition,
          message,
          offset: Number(message.offset),
          source: { topic: topics.requests, partition, offset: message.offset },
          trace,
          span,
          started: performance.now(),
          known,
          out,
        };
        const answer = await withContext(trace, () => answerOne(at, record.parsed));
        spans.endRecord(answer);
        out.answers.push(answer);
        await beat();
      }
      return out;
    },
    committed(partition, rows) {
      for (const claim of rows) deps.recent.set(partition, claim);
    },
    forget(partition) {
      deps.recent.drop(partition);
    },
  };
}
