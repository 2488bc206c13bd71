import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { fileURLToPath } from "node:url";
import { context, propagation, ROOT_CONTEXT, trace, TraceFlags } from "@opentelemetry/api";
import {
  extractTraceContext,
  injectTraceHeaders,
  spanContextFromHeaders,
  traceparentOf,
} from "./trace_context.ts";

const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
const SPAN_ID = "00f067aa0ba902b7";
const TRACEPARENT = `00-${TRACE_ID}-${SPAN_ID}-01`;
const tracer = trace.getTracer("trace_context_test");

// The propagator is Deno's, registered only when the process starts with OTEL_DENO=true,
// which a test cannot switch on for itself. Without it, the cases run in a child process
// that has it; the behaviour without it is tested here.
const propagatorRegistered = propagation.fields().includes("traceparent");

if (!propagatorRegistered) {
  Deno.test("without OTEL_DENO no propagator is registered: nothing is written, nothing read", () => {
    const headers = injectTraceHeaders({ source: "payment-producer" });
    assert.deepEqual(headers, { source: "payment-producer" });
    const parent = extractTraceContext({ traceparent: Buffer.from(TRACEPARENT) });
    assert.equal(trace.getSpanContext(parent), undefined);
    assert.equal(traceparentOf(tracer.startSpan("no context")), undefined);
  });

  Deno.test("trace context in Kafka headers works under Deno's OpenTelemetry (this file, OTEL_DENO=true)", async () => {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["test", "-A", "--no-check", fileURLToPath(import.meta.url)],
      cwd: fileURLToPath(new URL("..", import.meta.url)),
      // Spans go nowhere: nothing listens on port 9, and Deno says nothing about it.
      env: {
        OTEL_DENO: "true",
        OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:9",
        OTEL_DENO_METRICS: "false",
        NO_COLOR: "1",
      },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const output = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    assert.ok(out.success, output);
    // Each case of the branch below ran and passed: the child cannot pass by running none.
    assert.match(output, /ok \| 9 passed \| 0 failed/, output);
  });
} else {
  Deno.test("injectTraceHeaders writes the active span's traceparent and keeps the other headers", () => {
    tracer.startActiveSpan("send payment_requests", (span) => {
      const headers = { correlation_id: "c-1" };
      const returned = injectTraceHeaders(headers);
      const { traceId, spanId } = span.spanContext();
      assert.equal(returned, headers, "the same object, written in place");
      assert.deepEqual(headers, {
        correlation_id: "c-1",
        traceparent: `00-${traceId}-${spanId}-01`,
      });
      span.end();
    });
  });

  Deno.test("injectTraceHeaders writes nothing without a span, and an unsampled context as 00", () => {
    assert.deepEqual(injectTraceHeaders({}, ROOT_CONTEXT), {});
    const unsampled = trace.setSpanContext(ROOT_CONTEXT, {
      traceId: TRACE_ID,
      spanId: SPAN_ID,
      traceFlags: TraceFlags.NONE,
      isRemote: true,
    });
    assert.deepEqual(injectTraceHeaders({}, unsampled), {
      traceparent: `00-${TRACE_ID}-${SPAN_ID}-00`,
    });
  });

  Deno.test("extractTraceContext reads kafkajs header values: Buffers, strings, repeated values", () => {
    const expected = { traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: 1, isRemote: true };
    for (
      const headers of [
        { traceparent: Buffer.from(TRACEPARENT), correlation_id: Buffer.from("c-1") },
        { traceparent: TRACEPARENT },
        { traceparent: new TextEncoder().encode(TRACEPARENT) },
        { traceparent: [Buffer.from("garbage"), Buffer.from(TRACEPARENT)] },
      ]
    ) {
      assert.deepEqual({ ...trace.getSpanContext(extractTraceContext(headers)) }, expected);
    }
  });

  Deno.test("extractTraceContext leaves the base as it is for missing, invalid or non-UTF-8 headers", () => {
    for (
      const headers of [
        undefined,
        {},
        { traceparent: Buffer.from(TRACEPARENT.toUpperCase()) },
        { traceparent: Buffer.from(`00-${"0".repeat(32)}-${SPAN_ID}-01`) },
        { traceparent: Buffer.from([0xff, 0xfe, 0x30]) },
      ]
    ) {
      assert.equal(extractTraceContext(headers), ROOT_CONTEXT);
    }
  });

  Deno.test("extractTraceContext starts from the root context, not from the span active around it", () => {
    tracer.startActiveSpan("consumer.run", (outer) => {
      assert.equal(trace.getSpanContext(extractTraceContext({})), undefined);
      const base = context.active();
      assert.equal(extractTraceContext({}, base), base, "unless a base is given");
      outer.end();
    });
  });

  Deno.test("a span started with the extracted context continues the producer's trace", () => {
    const parent = extractTraceContext({ traceparent: Buffer.from(TRACEPARENT) });
    const span = tracer.startSpan("process payment", {}, parent);
    const { traceId, spanId } = span.spanContext();
    assert.equal(traceId, TRACE_ID);
    assert.notEqual(spanId, SPAN_ID);
    assert.deepEqual(injectTraceHeaders({}, trace.setSpan(parent, span)), {
      traceparent: `00-${TRACE_ID}-${spanId}-01`,
    });
    span.end();
  });

  Deno.test("tracestate is read and forwarded, but Deno 2.9.6 does not hand it on to a child span", () => {
    const parent = extractTraceContext({
      traceparent: Buffer.from(TRACEPARENT),
      tracestate: Buffer.from("vendor=opaque"),
    });
    assert.deepEqual(injectTraceHeaders({}, parent), {
      traceparent: TRACEPARENT,
      tracestate: "vendor=opaque",
    });
    // The spec says a child inherits its parent's tracestate; Deno's spans start without
    // one (docs/tracing-notes.md). Nothing here uses tracestate; this says when that changes.
    const span = tracer.startSpan("process payment", {}, parent);
    assert.equal(span.spanContext().traceState, undefined);
    span.end();
  });

  Deno.test("spanContextFromHeaders gives a batch span one link per traced record", () => {
    assert.equal(spanContextFromHeaders(undefined), undefined);
    assert.equal(spanContextFromHeaders({ traceparent: Buffer.from("x") }), undefined);
    const link = spanContextFromHeaders({ traceparent: Buffer.from(TRACEPARENT) });
    assert.equal(link?.traceId, TRACE_ID);
    assert.equal(link?.spanId, SPAN_ID);
  });

  Deno.test("traceparentOf writes a span's context as one value, read back by extractTraceContext", () => {
    const span = tracer.startSpan("process payment_requests");
    const value = traceparentOf(span);
    const { traceId, spanId } = span.spanContext();
    assert.equal(value, `00-${traceId}-${spanId}-01`);
    const child = tracer.startSpan(
      "process by_customer",
      {},
      extractTraceContext({ traceparent: value }),
    );
    assert.equal(child.spanContext().traceId, traceId);
    child.end();
    span.end();
  });
}
