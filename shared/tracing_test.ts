import assert from "node:assert/strict";
import { ROOT_CONTEXT, trace, TraceFlags } from "@opentelemetry/api";
import { otelEnabled, rerunUnderOtel } from "@payments/testing/otel_rerun";
import { activeTraceIds, isSampled, pipelineTracer, traceIds } from "./tracing.ts";
import { kafkaAttributes, messagingSpanName } from "./span_attributes.ts";

const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
const SPAN_ID = "00f067aa0ba902b7";
const remote = (flags: TraceFlags) => ({
  traceId: TRACE_ID,
  spanId: SPAN_ID,
  traceFlags: flags,
  isRemote: true,
});

Deno.test("isSampled reads the sampled flag of a valid context; traceIds names its ids", () => {
  assert.equal(isSampled(remote(TraceFlags.SAMPLED)), true);
  assert.equal(isSampled(remote(TraceFlags.NONE)), false);
  assert.equal(isSampled({ ...remote(TraceFlags.SAMPLED), traceId: "0".repeat(32) }), false);
  assert.equal(isSampled(undefined), false);
  assert.deepEqual(traceIds(remote(TraceFlags.NONE)), { trace_id: TRACE_ID, span_id: SPAN_ID });
  assert.equal(traceIds({ ...remote(TraceFlags.SAMPLED), spanId: "0".repeat(16) }), undefined);
  assert.equal(traceIds(undefined), undefined);
});

Deno.test("messaging span names and attributes follow the conventions for Kafka", () => {
  assert.equal(messagingSpanName("send", "payment_requests"), "send payment_requests");
  assert.equal(messagingSpanName("settle", "payment_requests"), "commit payment_requests");
  assert.deepEqual(
    kafkaAttributes({
      operation: "process",
      destination: "payment_requests",
      partition: 3,
      consumerGroup: "payment-processor",
      key: "P-1",
      offset: "42",
    }),
    {
      "messaging.system": "kafka",
      "messaging.operation.type": "process",
      "messaging.operation.name": "process",
      "messaging.destination.name": "payment_requests",
      "messaging.destination.partition.id": "3",
      "messaging.consumer.group.name": "payment-processor",
      "messaging.kafka.message.key": "P-1",
      "messaging.kafka.offset": 42,
    },
  );
  const batch = kafkaAttributes({ operation: "send", destination: "t", count: 1 });
  assert.equal(batch["messaging.batch.message_count"], 1, "a batch of one is still a batch");
  assert.equal(
    "messaging.batch.message_count" in kafkaAttributes({ operation: "send", destination: "t" }),
    false,
  );
});

if (!otelEnabled()) {
  Deno.test("without OTEL_DENO spans have no ids: nothing to log, nothing sampled", () => {
    const span = pipelineTracer().startSpan("process payment_requests");
    assert.equal(traceIds(span), undefined);
    assert.equal(isSampled(span), false);
    pipelineTracer().startActiveSpan("outer", (outer) => {
      assert.equal(activeTraceIds(), undefined);
      outer.end();
    });
    span.end();
  });

  Deno.test(
    "shared/tracing.ts under OTEL_DENO=true (this file again)",
    rerunUnderOtel(import.meta.url, 4),
  );
} else {
  Deno.test("a span's ids are its own, sampled or not", () => {
    const unsampled = trace.setSpanContext(ROOT_CONTEXT, remote(TraceFlags.NONE));
    const child = pipelineTracer().startSpan("child", {}, unsampled);
    assert.equal(isSampled(child), false, "parent-based: the caller's decision");
    assert.equal(child.isRecording(), true, "Deno records it all the same: hence isSampled");
    assert.equal(traceIds(child)?.trace_id, TRACE_ID);
    assert.notEqual(traceIds(child)?.span_id, SPAN_ID);
    child.end();
  });

  Deno.test("activeTraceIds are those of the span a callback runs in, and none outside", () => {
    assert.equal(activeTraceIds(), undefined);
    pipelineTracer().startActiveSpan("outer", (outer) => {
      assert.deepEqual(activeTraceIds(), traceIds(outer));
      assert.equal(isSampled(outer), true);
      outer.end();
    });
  });
}
