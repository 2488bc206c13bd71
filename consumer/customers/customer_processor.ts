/**
 * The second stage, a customer task's processing of its partition of the repartition
 * topic (keyed by customer id): every payment forwarded to it is decided by the rules
 * in a fixed order (blocked merchant, amount limit, velocity), written as its result
 * on the partition of its request and remembered as a decision in the changelog, all
 * in one transaction.
 *
 * The velocity rule is exact with any number of instances: all of a customer's
 * payments come to this one task, in order, and it counts every payment of the
 * customer it decided before whose `created_at` lies within a minute of this one's,
 * before or after (its store, then this chunk). Counting both sides means that in any
 * minute the last of its approved payments saw all the others, so no minute ever holds
 * more approvals than the limit, whatever order the payments arrive in.
 *
 * Each forward is decided in its span (`tasks/chunk_trace.ts`), a child of the payment
 * task's span whose context the forward carries: the payment's trace goes on here.
 *
 * @module
 */
import { ROOT_CONTEXT, type Span } from "@opentelemetry/api";
import type { KafkaMessage } from "kafkajs";
import { withContext } from "@logtape/logtape";
import { extractTraceContext, traceparentOf } from "@payments/shared/trace_context";
import type { TopicNames } from "@payments/shared/topics";
import { isSampled, traceIds } from "@payments/shared/tracing";
import type { Answer, Trace } from "../answer.ts";
import type { Rules } from "../config.ts";
import { buildDlqRecord } from "../dlq.ts";
import { type Forward, readForward } from "../forwards.ts";
import { decide, toResult } from "../processor.ts";
import { buildResultRecord } from "../results.ts";
import {
  type Chunk,
  type ChunkAnswers,
  type ChunkProcessor,
  pacedHeartbeat,
} from "../tasks/chunk.ts";
import { type Decision, decisionRecord } from "./decision_records.ts";
import type { DecisionStore } from "./decision_store.ts";

/** The velocity window: payments created within this of each other count together. */
export const VELOCITY_WINDOW_MS = 60_000;

/** Partition counts of the topics a customer task writes (read once at start). */
export interface DecisionOutputPartitions {
  results: number;
  dlq: number;
}

/** What the customer processor needs. */
export interface CustomerProcessorDeps {
  topics: TopicNames;
  partitions: DecisionOutputPartitions;
  rules: Rules;
  now?: () => number;
}

/** This chunk's decided payments per customer, not in the store until the commit. */
class PendingTimes {
  readonly #times = new Map<string, number[]>();
  add(customerId: string, createdAtMs: number) {
    const times = this.#times.get(customerId);
    if (times) times.push(createdAtMs);
    else this.#times.set(customerId, [createdAtMs]);
  }
  near(customerId: string, atMs: number): number {
    let n = 0;
    for (const t of this.#times.get(customerId) ?? []) {
      if (Math.abs(t - atMs) < VELOCITY_WINDOW_MS) n++;
    }
    return n;
  }
}

/** Where a customer task's answers go, the rules it applies, and its clock. */
interface Outputs {
  topics: TopicNames;
  partitions: DecisionOutputPartitions;
  rules: Rules;
  now: () => number;
}

/** One forward being decided: where it came from, its trace, what the chunk holds. */
interface Deciding {
  partition: number;
  store: DecisionStore;
  message: KafkaMessage;
  trace: Trace;
  span: Span;
  pending: PendingTimes;
  out: ChunkAnswers<Decision>;
}

/**
 * The customer's payments created within the velocity window of `createdAtMs`, in the
 * store and in this chunk. Counting past the limit changes no verdict, so the store
 * stops there.
 */
function paymentsNear(to: Outputs, at: Deciding, customerId: string, createdAtMs: number) {
  return at.store.countBetween(
    customerId,
    createdAtMs - VELOCITY_WINDOW_MS,
    createdAtMs + VELOCITY_WINDOW_MS,
    to.rules.velocityMaxPerMinute + 1,
  ) + at.pending.near(customerId, createdAtMs);
}

function decideOne(to: Outputs, at: Deciding, forward: Forward): Answer {
  const started = performance.now();
  const { event, request } = forward;
  const { trace, span } = at;
  const createdAtMs = Date.parse(event.created_at);
  const before = paymentsNear(to, at, event.customer_id, createdAtMs);
  const verdict = decide(event, { seen: false, paymentsInLastMinute: before + 1 }, to.rules);
  if (verdict.outcome === "DUPLICATE") throw new Error("a forward is never a repeat");
  const decidedAtMs = to.now();
  at.pending.add(event.customer_id, createdAtMs);
  const decision: Decision = {
    paymentId: event.payment_id,
    outcome: verdict.outcome,
    reason: verdict.reason,
    customerId: event.customer_id,
    createdAtMs,
    decidedAtMs,
    inputPartition: request.partition,
    inputOffset: request.offset,
    forwardPartition: at.partition,
    forwardOffset: Number(at.message.offset),
    correlationId: trace.correlation_id,
  };
  at.out.outputs.push(
    buildResultRecord(
      toResult(event, verdict, new Date(decidedAtMs)),
      { topic: to.topics.requests, partition: request.partition, offset: String(request.offset) },
      { correlationId: trace.correlation_id, traceparent: traceparentOf(span) },
      to.topics.results,
      to.partitions.results,
    ),
    decisionRecord(decision, to.topics.customerDecisions),
  );
  at.out.rows.push(decision);
  return {
    kind: "decided",
    outcome: verdict.outcome,
    offset: Number(at.message.offset),
    event,
    decision,
    trace,
    span,
    processingSeconds: (performance.now() - started) / 1000,
    log: { outcome: verdict.outcome, reason: verdict.reason },
  };
}

/** A forward that does not read as one: dead-lettered as schema_invalid. */
function deadLetter(
  to: Outputs,
  partition: number,
  message: KafkaMessage,
  error: string,
  span: Span,
  out: ChunkAnswers<Decision>,
): Answer {
  out.outputs.push({
    ...buildDlqRecord(
      message,
      { topic: to.topics.byCustomer, partition, offset: message.offset },
      { reason: "schema_invalid", error, attempts: 1, failedAt: new Date(to.now()) },
      to.topics.dlq,
      to.partitions.dlq,
    ),
    ...(isSampled(span) ? { answers: span.spanContext() } : {}),
  });
  return {
    kind: "dead_letter",
    offset: Number(message.offset),
    reason: "schema_invalid",
    trace: { correlation_id: "unknown", ...traceIds(span) },
    span,
    processingSeconds: 0,
    log: { reason: "schema_invalid", error, attempts: 1, topic: to.topics.byCustomer, partition },
  };
}

/** Creates the processor of the customer tasks. */
export function createCustomerProcessor(
  deps: CustomerProcessorDeps,
): ChunkProcessor<Decision, DecisionStore> {
  const to: Outputs = { ...deps, now: deps.now ?? Date.now };
  return {
    async answer({ partition, store, messages, heartbeat, trace: spans }: Chunk<DecisionStore>) {
      const out: ChunkAnswers<Decision> = { answers: [], outputs: [], rows: [] };
      const pending = new PendingTimes();
      const beat = pacedHeartbeat(heartbeat);
      for (const message of messages) {
        const read = readForward(message.value);
        if (!read.ok) {
          // Nothing in it can be trusted, its trace context neither: a trace of its own.
          const span = spans.startRecord(message, ROOT_CONTEXT);
          const answer = deadLetter(to, partition, message, read.error, span, out);
          spans.endRecord(answer);
          out.answers.push(answer);
          continue;
        }
        const { forward } = read;
        const span = spans.startRecord(
          message,
          extractTraceContext({ traceparent: forward.trace.traceparent }),
        );
        const trace: Trace = { correlation_id: forward.trace.correlation_id, ...traceIds(span) };
        const at: Deciding = { partition, store, message, trace, span, pending, out };
        const answer = withContext(trace, () => decideOne(to, at, forward));
        spans.endRecord(answer);
        out.answers.push(answer);
        await beat();
      }
      return out;
    },
  };
}
