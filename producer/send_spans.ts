/**
 * The producer's PRODUCER spans, `send payment_requests` by the messaging conventions:
 *
 * - one per request ({@linkcode startRequestSend}), child of the runtime's HTTP server
 *   span, from building the records to Kafka's acknowledgement of all of them (a batch
 *   request's covers all its payments). Every record of the request carries its
 *   `traceparent`, so the consumer's spans of each payment continue this trace.
 * - one per coalesced send that serves several requests ({@linkcode coalescedSend}): the
 *   one kafkajs send their records went out in, linked to each request's span. Its
 *   parent is the first sampled request's span (so a sampled request's trace shows the
 *   send it shared), else the first request's. A send that serves one request is that
 *   request's span already and gets no span of its own.
 *
 * Attributes, links and the like are set only on sampled spans: Deno records unsampled
 * spans too (`isRecording()` is true), and they would cost for nothing.
 *
 * @module
 */
import {
  type Context,
  type Link,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
  type Tracer,
} from "@opentelemetry/api";
import {
  ATTR,
  kafkaAttributes,
  messagingSpanName,
  PAYMENT_ATTR,
} from "@payments/shared/span_attributes";
import { isSampled } from "@payments/shared/tracing";
import type { RecordPosition } from "./publisher.ts";

/** What a request's send span describes. */
export interface RequestSendFacts {
  topic: string;
  /** The request's payment ids, in order. */
  paymentIds: readonly string[];
  /** `POST /payments/batch` (a batch operation even of one payment). */
  batch: boolean;
  correlationId: string;
  /** The producer's own probe sent it. */
  probe?: boolean;
}

/**
 * Starts a request's send span as a child of the span active here (the HTTP server
 * span). Run the rest of the send inside it (`context.with(trace.setSpan(...))`) so the
 * records' headers take its context.
 */
export function startRequestSend(tracer: Tracer, facts: RequestSendFacts): Span {
  const span = tracer.startSpan(messagingSpanName("send", facts.topic), {
    kind: SpanKind.PRODUCER,
  });
  if (!isSampled(span)) return span;
  const single = !facts.batch && facts.paymentIds.length === 1;
  span.setAttributes({
    ...kafkaAttributes({
      operation: "send",
      destination: facts.topic,
      ...(single ? { key: facts.paymentIds[0]! } : { count: facts.paymentIds.length }),
    }),
    ...(single ? { [PAYMENT_ATTR.id]: facts.paymentIds[0]! } : {}),
    [PAYMENT_ATTR.correlationId]: facts.correlationId,
    ...(facts.probe ? { [PAYMENT_ATTR.probe]: true } : {}),
  });
  return span;
}

/** Ends a request's send span: where a single payment went, or why it failed. */
export function endRequestSend(
  span: Span,
  outcome: { positions: readonly RecordPosition[] } | { error: unknown },
): void {
  if (isSampled(span)) {
    if ("error" in outcome) {
      failed(span, outcome.error);
    } else if (outcome.positions.length === 1) {
      const [{ partition, offset }] = outcome.positions as [RecordPosition];
      span.setAttributes({ [ATTR.partition]: String(partition), [ATTR.offset]: offset });
    }
  }
  span.end();
}

/**
 * Runs `send` (one kafkajs send of `records` records for the requests whose contexts
 * are `requests`) inside a span of its own when it serves more than one request.
 */
export async function coalescedSend<T>(
  tracer: Tracer,
  topic: string,
  records: number,
  requests: readonly (Context | undefined)[],
  send: () => Promise<T>,
): Promise<T> {
  if (requests.length < 2) return await send();
  const contexts = requests.filter((c): c is Context => c !== undefined);
  const parent = contexts.find((c) => isSampled(trace.getSpanContext(c))) ?? contexts[0];
  const span = tracer.startSpan(
    messagingSpanName("send", topic),
    { kind: SpanKind.PRODUCER },
    parent,
  );
  if (isSampled(span)) {
    span.setAttributes({
      ...kafkaAttributes({ operation: "send", destination: topic, count: records }),
      "payments.coalesced_requests": requests.length,
    });
    span.addLinks(
      contexts.flatMap((c): Link[] => {
        const linked = trace.getSpanContext(c);
        return linked ? [{ context: linked }] : [];
      }),
    );
  }
  try {
    return await send();
  } catch (error) {
    if (isSampled(span)) failed(span, error);
    throw error;
  } finally {
    span.end();
  }
}

function failed(span: Span, error: unknown): void {
  const message = error instanceof Error ? error.message : String(error);
  span.setStatus({ code: SpanStatusCode.ERROR, message });
  span.setAttribute(ATTR.errorType, error instanceof Error ? error.name : "unknown");
}
