/**
 * The spans of one chunk of one task, by the messaging conventions for batch
 * processing:
 *
 * - `process <input topic>` for the chunk (CONSUMER, a root: a chunk belongs to no one
 *   payment's trace), linked to the context each record carries (the producer's send
 *   span, or the payment task's span of a forward), active while the chunk is answered,
 *   committed and reported, so lines logged about the chunk carry its ids;
 * - `process <input topic>` for each record ({@linkcode ChunkTrace.startRecord}), a child
 *   of the context the record carries, so one payment is one trace from its HTTP request
 *   to its decision; linked to the chunk's span;
 * - `commit <input topic>` for the chunk's transaction ({@linkcode ChunkTrace.commit}), a
 *   child of the chunk's span, with each retry kafkajs makes inside it as an event
 *   ({@linkcode transactionRetried}); the sends it makes are spans of
 *   `../transaction.ts`;
 * - `commit <input topic>` in each record's own trace ({@linkcode ChunkTrace.settled}),
 *   a child of its span with the transaction's start, end, retries and outcome, linked
 *   to the transaction's span: where a payment's trace shows when it became durable.
 *
 * Attributes, links, events and the records' commit spans are made for sampled spans
 * only: Deno records unsampled spans too, and they would cost for nothing.
 *
 * @module
 */
import {
  type Context,
  context,
  createContextKey,
  isSpanContextValid,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
  type Tracer,
} from "@opentelemetry/api";
import type { KafkaMessage } from "kafkajs";
import { ATTR, kafkaAttributes, messagingSpanName } from "@payments/shared/span_attributes";
import { isSampled } from "@payments/shared/tracing";
import type { Answer } from "../answer.ts";
import { answerAttributes } from "./answer_attributes.ts";
import type { TaskId } from "./task.ts";

/** What the spans of a chunk describe. */
export interface ChunkFacts {
  id: TaskId;
  /** The task's input topic. */
  topic: string;
  groupId: string;
  /** Records in the chunk. */
  records: number;
}

/** A retry kafkajs made inside a transaction. */
interface Retry {
  /** Epoch milliseconds, with the fraction ({@linkcode epochMs}). */
  at: number;
  errorType: string;
}

/** A transaction under way: its span and its retries so far. */
interface Transaction {
  span: Span;
  retries: Retry[];
}

/** How the chunk's transaction went, for the records' commit spans. */
interface Settlement {
  span: Span;
  started: number;
  ended: number;
  retries: readonly Retry[];
  error?: unknown;
}

/**
 * Now, in epoch milliseconds with microseconds (a `Date` keeps whole milliseconds, which
 * would start a commit span before the record span it follows).
 */
const epochMs = () => performance.timeOrigin + performance.now();

/** Where the transaction under way is found from inside kafkajs (its retry log). */
const TRANSACTION = createContextKey("payments.transaction");

/**
 * Records a retry kafkajs made (`onProducerRetry`) on the span of the transaction it
 * was made in, when there is one: the consumer's transactional producers send only
 * inside {@linkcode ChunkTrace.commit}, whose context kafkajs' promise chains carry.
 */
export function transactionRetried(errorType: string): void {
  const transaction = context.active().getValue(TRANSACTION) as Transaction | undefined;
  if (!transaction || !isSampled(transaction.span)) return;
  const retry = { at: epochMs(), errorType };
  transaction.retries.push(retry);
  transaction.span.addEvent("retry", { [ATTR.errorType]: errorType }, retry.at);
}

/** The spans of one chunk; see the module documentation. */
export class ChunkTrace {
  readonly #tracer: Tracer;
  readonly #facts: ChunkFacts;
  readonly #span: Span;
  readonly #sampled: boolean;
  #settlement: Settlement | undefined;

  constructor(tracer: Tracer, facts: ChunkFacts) {
    this.#tracer = tracer;
    this.#facts = facts;
    this.#span = tracer.startSpan(messagingSpanName("process", facts.topic), {
      kind: SpanKind.CONSUMER,
      root: true,
    });
    this.#sampled = isSampled(this.#span);
    if (this.#sampled) {
      this.#span.setAttributes({
        ...this.#attributes("process"),
        [ATTR.batchCount]: facts.records,
        "payments.task": `${facts.id.kind}-${facts.id.partition}`,
      });
    }
  }

  /** Runs `work` with the chunk's span active. */
  run<T>(work: () => Promise<T>): Promise<T> {
    return context.with(trace.setSpan(ROOT_CONTEXT, this.#span), work);
  }

  /**
   * Starts the span of one record, a child of `parent` (the context the record carries;
   * the root context when it carries none), and links the chunk's span to it.
   */
  startRecord(message: KafkaMessage, parent: Context): Span {
    const span = this.#tracer.startSpan(
      messagingSpanName("process", this.#facts.topic),
      { kind: SpanKind.CONSUMER },
      parent,
    );
    if (this.#sampled) {
      // The record's creation context; a record that carries none is linked by its own span.
      const carried = trace.getSpanContext(parent) ?? span.spanContext();
      if (isSpanContextValid(carried)) this.#span.addLink({ context: carried });
    }
    if (isSampled(span)) {
      span.setAttributes(this.#attributes("process", message));
      span.addLink({ context: this.#span.spanContext() });
    }
    return span;
  }

  /** Ends a record's span with what became of it. */
  endRecord(answer: Answer): void {
    const { span } = answer;
    if (isSampled(span)) {
      span.setAttributes(answerAttributes(answer));
      if (answer.kind === "dead_letter") {
        span.setStatus({ code: SpanStatusCode.ERROR, message: `dead-lettered: ${answer.reason}` });
      }
    }
    span.end();
  }

  /** Runs the chunk's transaction in its span, which is active while it runs. */
  async commit<T>(transaction: () => Promise<T>): Promise<T> {
    // One clock for this span and its copies in the records' traces.
    const started = epochMs();
    const span = this.#tracer.startSpan(
      messagingSpanName("settle", this.#facts.topic),
      { kind: SpanKind.CLIENT, startTime: started },
      trace.setSpan(ROOT_CONTEXT, this.#span),
    );
    if (isSampled(span)) {
      span.setAttributes({ ...this.#attributes("settle"), [ATTR.batchCount]: this.#facts.records });
    }
    const under: Transaction = { span, retries: [] };
    let error: unknown;
    try {
      return await context.with(
        trace.setSpan(ROOT_CONTEXT, span).setValue(TRANSACTION, under),
        transaction,
      );
    } catch (thrown) {
      error = thrown;
      if (isSampled(span)) failed(span, thrown);
      throw thrown;
    } finally {
      const ended = epochMs();
      span.end(ended);
      this.#settlement = {
        span,
        started,
        ended,
        retries: under.retries,
        ...(error === undefined ? {} : { error }),
      };
    }
  }

  /**
   * Once the transaction ended: a commit span in each sampled record's trace, with the
   * transaction's timing, retries and outcome.
   */
  settled(answers: readonly Answer[]): void {
    const settlement = this.#settlement;
    if (!settlement) return;
    for (const { span } of answers) {
      if (!isSampled(span)) continue;
      const commit = this.#tracer.startSpan(
        messagingSpanName("settle", this.#facts.topic),
        {
          kind: SpanKind.CLIENT,
          startTime: settlement.started,
          links: [{ context: settlement.span.spanContext() }],
          attributes: this.#attributes("settle"),
        },
        trace.setSpan(ROOT_CONTEXT, span),
      );
      for (const retry of settlement.retries) {
        commit.addEvent("retry", { [ATTR.errorType]: retry.errorType }, retry.at);
      }
      if (settlement.error !== undefined) failed(commit, settlement.error);
      commit.end(settlement.ended);
    }
  }

  /** Ends the chunk's span; `error`: why the chunk was not committed. */
  end(error?: unknown): void {
    if (error !== undefined && this.#sampled) failed(this.#span, error);
    this.#span.end();
  }

  #attributes(operation: "process" | "settle", message?: KafkaMessage) {
    const { id, topic, groupId } = this.#facts;
    return kafkaAttributes({
      operation,
      destination: topic,
      partition: id.partition,
      consumerGroup: groupId,
      ...(message ? { offset: message.offset } : {}),
      ...(message?.key ? { key: message.key.toString() } : {}),
    });
  }
}

function failed(span: Span, error: unknown): void {
  const message = error instanceof Error ? error.message : String(error);
  span.setStatus({ code: SpanStatusCode.ERROR, message });
  span.setAttribute(ATTR.errorType, error instanceof Error ? error.name : "unknown");
}
