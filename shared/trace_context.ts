/**
 * Trace context in Kafka record headers, through OpenTelemetry's propagation API: the
 * producer writes the active span's `traceparent` (and `tracestate`, baggage) into a
 * record's headers, the consumer reads them back from kafkajs messages to continue that
 * trace or link to it. The propagator is the runtime's: with `OTEL_DENO=true` Deno
 * registers W3C trace context and baggage; without it there is none, so nothing is
 * written and nothing is read (there are no spans either).
 *
 * @example
 * ```ts
 * const headers = injectTraceHeaders(buildRecordHeaders(values)); // inside the produce span
 * // consumer, per message:
 * const parent = extractTraceContext(message.headers);
 * tracer.startActiveSpan("process payment", { kind: SpanKind.CONSUMER }, parent, (span) => {...});
 * ```
 *
 * @module
 */
import {
  type Context,
  context,
  propagation,
  ROOT_CONTEXT,
  type Span,
  type SpanContext,
  type TextMapGetter,
  trace,
} from "@opentelemetry/api";
import { headerText, type KafkaHeaders } from "./record_headers.ts";

// kafkajs hands header values over as Buffers (arrays when repeated); the API's default
// getter returns them as they are, which the W3C propagator cannot read.
const kafkaHeaderGetter: TextMapGetter<KafkaHeaders> = {
  keys: (headers) => Object.keys(headers),
  get: (headers, key) => headerText(headers, key),
};

/**
 * Writes the trace context of `ctx` (default: the active one) into `headers` and returns
 * them: `traceparent`, plus `tracestate` and `baggage` when there are any. Writes nothing
 * when `ctx` has no span or no propagator is registered (`OTEL_DENO` unset).
 *
 * @example
 * ```ts
 * tracer.startActiveSpan("send payment_requests", { kind: SpanKind.PRODUCER }, (span) =>
 *   producer.send({ topic, messages: [{ key, value, headers: injectTraceHeaders({}) }] }));
 * ```
 */
export function injectTraceHeaders<T extends Record<string, unknown>>(
  headers: T,
  ctx: Context = context.active(),
): T {
  propagation.inject(ctx, headers);
  return headers;
}

/**
 * The context a record's headers carry, on top of `base`: a span started with it as
 * parent continues the producer's trace. `base` is the root context by default, not the
 * active one, because inside kafkajs' `eachBatch` the active context is whatever was
 * active when `consumer.run()` was called, which no payment belongs to. Missing, invalid
 * or non-UTF-8 headers leave `base` as it is.
 *
 * @example
 * ```ts
 * const parent = extractTraceContext(message.headers);
 * tracer.startActiveSpan("process payment", { kind: SpanKind.CONSUMER }, parent, work);
 * ```
 */
export function extractTraceContext(
  headers: KafkaHeaders | undefined,
  base: Context = ROOT_CONTEXT,
): Context {
  return headers ? propagation.extract(base, headers, kafkaHeaderGetter) : base;
}

/**
 * The producer's span context from a record's headers, or `undefined`: what a batch span
 * links to, one link per record, as the messaging conventions ask of batch processing.
 *
 * @example
 * ```ts
 * const links = batch.messages.flatMap((m) => {
 *   const producer = spanContextFromHeaders(m.headers);
 *   return producer ? [{ context: producer }] : [];
 * });
 * ```
 */
export function spanContextFromHeaders(headers: KafkaHeaders | undefined): SpanContext | undefined {
  return trace.getSpanContext(extractTraceContext(headers));
}

/**
 * The `traceparent` of `span` (sampled `-01` or not `-00`), for a record that carries its
 * context in its value rather than its headers (the repartition topic's forwards), or
 * undefined without a propagator (`OTEL_DENO` unset).
 *
 * @example
 * ```ts
 * const forward = { payment, traceparent: traceparentOf(paymentSpan) ?? "" };
 * // the reader: tracer.startSpan("process ...", {}, extractTraceContext({ traceparent }))
 * ```
 */
export function traceparentOf(span: Span): string | undefined {
  const carrier: { traceparent?: string } = {};
  propagation.inject(trace.setSpan(ROOT_CONTEXT, span), carrier);
  return carrier.traceparent;
}
