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

interface Parsed1 {
  message: KafkaMessage;
  parsed: Parsed;
  correlationId: string;
  /** The context its headers carry (the producer's send span), else the root. */
  parent: Context;
}

function readRequest(message: KafkaMessage): Parsed1 {
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

/** Creates the processor of the payment tasks. */
export function createPaymentProcessor(
  deps: PaymentProcessorDeps,
): ChunkProcessor<Claim, ClaimStore> {
  const { topics, partitions } = deps;
  const now = deps.now ?? Date.now;

  /** The claims known for the chunk's payment ids: cache first, then one store lookup. */
  function knownClaims(partition: number, store: ClaimStore, records: readonly Parsed1[]) {
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

  async function answerOne(
    partition: number,
    record: Parsed1,
    traced: { trace: Trace; span: Span },
    known: Map<string, Claim>,
    out: ChunkAnswers<Claim>,
  ): Promise<Answer> {
    const { message, parsed } = record;
    const { trace, span } = traced;
    const started = performance.now();
    const offset = Number(message.offset);
    const source = { topic: topics.requests, partition, offset: message.offset };
    const elapsed = () => (performance.now() - started) / 1000;
    const deadLetter = (reason: DlqReason, error: string, attempts: number): Answer => {
      out.outputs.push({
        ...buildDlqRecord(
          message,
          source,
          { reason, error, attempts, failedAt: new Date(now()) },
          topics.dlq,
          partitions.dlq,
        ),
        ...(isSampled(span) ? { answers: span.spanContext() } : {}),
      });
      return {
        kind: "dead_letter",
        offset,
        reason,
        trace,
        span,
        processingSeconds: elapsed(),
        log: { reason, error, attempts },
        ...(parsed.kind === "payment"
          ? { event: parsed.event, naiveCreatedAt: parsed.naiveCreatedAt }
          : {}),
      };
    };
    if (parsed.kind === "poison") return deadLetter(parsed.reason, parsed.error, 1);
    const { event, naiveCreatedAt } = parsed;
    const attempts = await deps.attempt(event);
    if (!attempts.ok) return deadLetter("processing_failed", attempts.error, attempts.attempts);

    const before = known.get(event.payment_id);
    if (before) {
      const claim = { ...before, duplicates: before.duplicates + 1 };
      known.set(claim.paymentId, claim);
      const verdict = { outcome: "DUPLICATE" as const, reason: REASON.duplicate };
      out.outputs.push(
        buildResultRecord(
          toResult(event, verdict, new Date(now())),
          source,
          { correlationId: trace.correlation_id, traceparent: traceparentOf(span) },
          topics.results,
          partitions.results,
        ),
        claimRecord(claim, topics.decisions),
      );
      out.rows.push(claim);
      return {
        kind: "duplicate",
        outcome: "DUPLICATE",
        offset,
        event,
        naiveCreatedAt,
        claim,
        trace,
        span,
        processingSeconds: elapsed(),
        log: { outcome: verdict.outcome, reason: verdict.reason },
      };
    }
    const claim: Claim = {
      paymentId: event.payment_id,
      customerId: event.customer_id,
      createdAtMs: Date.parse(event.created_at),
      claimedAtMs: now(),
      inputPartition: partition,
      inputOffset: offset,
      correlationId: trace.correlation_id,
      duplicates: 0,
    };
    known.set(claim.paymentId, claim);
    const forward = forwardRecord(
      {
        event,
        request: { partition, offset },
        trace: { correlation_id: trace.correlation_id, traceparent: traceparentOf(span) ?? "" },
      },
      topics.byCustomer,
      partitions.byCustomer,
    );
    out.outputs.push(claimRecord(claim, topics.decisions), forward);
    out.rows.push(claim);
    return {
      kind: "claimed",
      offset,
      event,
      naiveCreatedAt,
      claim,
      trace,
      span,
      processingSeconds: elapsed(),
      log: { customer_partition: forward.partition },
    };
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
        const answer = await withContext(
          trace,
          () => answerOne(partition, record, { trace, span }, known, out),
        );
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
