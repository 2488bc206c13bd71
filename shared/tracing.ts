/**
 * The pipeline's spans on OpenTelemetry's API, which Deno implements when started with
 * `OTEL_DENO=true` (without it every call here is a cheap no-op): the tracer, whether a
 * span is sampled, and its ids for log lines and exemplars. Context in Kafka records is
 * `trace_context.ts`; attribute names are `span_attributes.ts`.
 *
 * Two facts of Deno 2.9.6 shape this module (docs/tracing-notes.md): `isRecording()` is
 * true for unsampled spans too, so work done only for an exported span tests the sampled
 * flag ({@linkcode isSampled}); and without `OTEL_DENO` a span's ids are all zeros, which
 * {@linkcode traceIds} leaves out rather than writing on every line.
 *
 * @module
 */
import {
  INVALID_SPANID,
  INVALID_TRACEID,
  type Span,
  type SpanContext,
  trace,
  TraceFlags,
  type Tracer,
} from "@opentelemetry/api";

/** The instrumentation scope of every span the services make themselves. */
export const TRACER_NAME = "payments";

/**
 * The services' tracer (Deno's, or the API's no-op one without `OTEL_DENO`).
 *
 * @example
 * ```ts
 * const span = pipelineTracer().startSpan("send payment_requests", { kind: SpanKind.PRODUCER });
 * ```
 */
export function pipelineTracer(): Tracer {
  return trace.getTracer(TRACER_NAME);
}

const contextOf = (span: Span | SpanContext | undefined): SpanContext | undefined =>
  span === undefined ? undefined : "spanContext" in span ? span.spanContext() : span;

/**
 * Whether a context has ids: not the all-zero ones of a span made without `OTEL_DENO`.
 * Cheaper than the API's `isSpanContextValid` (two regular expressions), which this
 * needs not repeat: Deno makes well-formed ids, and its propagator refuses malformed
 * ones before they become a context.
 */
const hasIds = (ids: SpanContext) =>
  ids.traceId !== INVALID_TRACEID && ids.spanId !== INVALID_SPANID;

/**
 * Whether a span is sampled: exported, so worth attributes, links and events. Not
 * `isRecording()`, which Deno 2.9.6 answers true for unsampled spans too.
 *
 * @example
 * ```ts
 * if (isSampled(span)) span.setAttributes({ "payment.id": id });
 * ```
 */
export function isSampled(span: Span | SpanContext | undefined): boolean {
  const ids = contextOf(span);
  return ids !== undefined && (ids.traceFlags & TraceFlags.SAMPLED) === TraceFlags.SAMPLED &&
    hasIds(ids);
}

/** The ids a log line or an exemplar carries, named as the JSON lines name them. */
export interface TraceIds {
  /** 32 lower-case hex digits. */
  trace_id: string;
  /** 16 lower-case hex digits. */
  span_id: string;
}

/**
 * A span's ids, sampled or not (so the lines of an unsampled payment still join across
 * services), or undefined when it has none (no `OTEL_DENO`, no span).
 *
 * @example
 * ```ts
 * withContext({ correlation_id, ...traceIds(span) }, () => logger.info("Payment decided"));
 * ```
 */
export function traceIds(span: Span | SpanContext | undefined): TraceIds | undefined {
  const ids = contextOf(span);
  if (ids === undefined || !hasIds(ids)) return undefined;
  return { trace_id: ids.traceId, span_id: ids.spanId };
}

/**
 * The ids of the span active here (Deno's HTTP server span in a handler, the span a
 * `startActiveSpan` callback runs in), or undefined.
 *
 * @example
 * ```ts
 * observeWithExemplar(histogram, labels, seconds, { traceId: activeTraceIds()?.trace_id });
 * ```
 */
export function activeTraceIds(): TraceIds | undefined {
  return traceIds(trace.getActiveSpan());
}

/**
 * Names the runtime's HTTP server span (the active span in a `Deno.serve` handler) as
 * the HTTP conventions ask: `{method} {route}` with `http.route`, where Deno alone can
 * only call it by its method. `route` is a pattern (`/payments/:payment_id`), never the
 * raw path, which would make every name unique. Nothing happens outside a sampled span.
 *
 * @example
 * ```ts
 * nameServerSpan("GET", "/metrics"); // the span is now "GET /metrics"
 * ```
 */
export function nameServerSpan(method: string, route: string, span = trace.getActiveSpan()): void {
  if (!span || !isSampled(span)) return;
  span.setAttribute("http.route", route);
  span.updateName(`${method} ${route}`);
}
