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
 * @module
 */
import type { KafkaMessage } from "kafkajs";
import { withContext } from "@logtape/logtape";
import { readRecordHeaders } from "@payments/shared/record_headers";
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
  trace: Trace;
}

function readRequest(message: KafkaMessage): Parsed1 {
  const headers = readRecordHeaders(message.headers);
  const parsed = parseRecord(message.value);
  return {
    message,
    parsed,
    trace: {
      correlation_id: headers.correlationId ??
        (parsed.kind === "payment" ? parsed.event.correlation_id : "unknown"),
      traceparent: headers.traceparent ?? "",
    },
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
    known: Map<string, Claim>,
    out: ChunkAnswers<Claim>,
  ): Promise<Answer> {
    const { message, parsed, trace } = record;
    const started = performance.now();
    const offset = Number(message.offset);
    const source = { topic: topics.requests, partition, offset: message.offset };
    const elapsed = () => (performance.now() - started) / 1000;
    const deadLetter = (reason: DlqReason, error: string, attempts: number): Answer => {
      out.outputs.push(buildDlqRecord(
        message,
        source,
        { reason, error, attempts, failedAt: new Date(now()) },
        topics.dlq,
        partitions.dlq,
      ));
      return {
        kind: "dead_letter",
        offset,
        reason,
        trace,
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
          { correlationId: trace.correlation_id, traceparent: trace.traceparent || undefined },
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
      { event, request: { partition, offset }, trace },
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
      processingSeconds: elapsed(),
      log: { customer_partition: forward.partition },
    };
  }

  return {
    async answer({ partition, store, messages, heartbeat }: Chunk<ClaimStore>) {
      const records = messages.map(readRequest);
      const known = knownClaims(partition, store, records);
      const out: ChunkAnswers<Claim> = { answers: [], outputs: [] as OutputRecord[], rows: [] };
      const beat = pacedHeartbeat(heartbeat);
      for (const record of records) {
        out.answers.push(
          await withContext(record.trace, () => answerOne(partition, record, known, out)),
        );
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
