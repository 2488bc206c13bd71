/**
 * The trace context the producer writes into its records and exemplars, as a client sees
 * it: under Deno's OpenTelemetry, through a real `Deno.serve` (whose server span is the
 * runtime's); without it, nothing. The span trees themselves are checked in Jaeger
 * (`e2e/tracing_integration_test.ts`).
 */
import assert from "node:assert/strict";
import { readRecordHeaders } from "@payments/shared/record_headers";
import { spanContextFromHeaders } from "@payments/shared/trace_context";
import { otelEnabled, rerunUnderOtel } from "@payments/testing/otel_rerun";
import { paymentRequest } from "@payments/testing/payments";
import { postJson, testApp } from "./testing.ts";

const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
const CALLER_SPAN = "00f067aa0ba902b7";
const OPEN_METRICS = "application/openmetrics-text;version=1.0.0,text/plain;q=0.5";

/** The app of {@linkcode testApp} behind a real server on a free port. */
function served() {
  const test = testApp();
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, test.app.fetch);
  return {
    ...test,
    url: `http://127.0.0.1:${server.addr.port}`,
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}

/** The exemplar of the `/payments` duration bucket that has one. */
async function durationExemplar(url: string): Promise<string | undefined> {
  const text = await (await fetch(`${url}/metrics`, { headers: { accept: OPEN_METRICS } })).text();
  return text.split("\n").find((line) =>
    line.startsWith("http_request_duration_seconds_bucket{") &&
    line.includes('handler="/payments"') && line.includes(" # {")
  );
}

if (!otelEnabled()) {
  Deno.test("without OTEL_DENO records carry no traceparent and exemplars no trace id", async () => {
    await using app = served();
    const response = await fetch(
      `${app.url}/payments`,
      postJson(paymentRequest("NO-TRACE-1"), {
        traceparent: `00-${TRACE_ID}-${CALLER_SPAN}-01`,
        "x-correlation-id": "c-no-trace",
      }),
    );
    assert.equal(response.status, 202);
    await response.body?.cancel();
    assert.equal("traceparent" in app.publisher.published[0]!.headers, false);
    assert.match((await durationExemplar(app.url))!, / # \{correlation_id="c-no-trace"\} /);
  });

  Deno.test(
    "the producer's trace context under OTEL_DENO=true (this file again)",
    rerunUnderOtel(import.meta.url, 3),
  );
} else {
  Deno.test("every record of a request carries the request's send span, in the caller's trace", async () => {
    await using app = served();
    const response = await fetch(
      `${app.url}/payments/batch`,
      postJson({ payments: [paymentRequest("TR-1"), paymentRequest("TR-2")] }, {
        traceparent: `00-${TRACE_ID}-${CALLER_SPAN}-01`,
      }),
    );
    assert.equal(response.status, 202);
    await response.body?.cancel();
    const [first, second] = app.publisher.published;
    assert.equal(first!.headers.traceparent, second!.headers.traceparent, "one send span");
    const sent = spanContextFromHeaders(first!.headers)!;
    assert.equal(sent.traceId, TRACE_ID);
    assert.notEqual(sent.spanId, CALLER_SPAN, "the producer's own span, not the caller's");
    assert.equal(sent.traceFlags, 1);
    assert.equal(readRecordHeaders(first!.headers).source, "payment-producer");
  });

  Deno.test("a caller's decision not to sample is kept: the record says -00", async () => {
    await using app = served();
    const response = await fetch(
      `${app.url}/payments`,
      postJson(paymentRequest("TR-UNSAMPLED"), {
        traceparent: `00-${TRACE_ID}-${CALLER_SPAN}-00`,
      }),
    );
    assert.equal(response.status, 202);
    await response.body?.cancel();
    const sent = spanContextFromHeaders(app.publisher.published[0]!.headers)!;
    assert.deepEqual([sent.traceId, sent.traceFlags], [TRACE_ID, 0]);
  });

  Deno.test("a request without a traceparent starts a trace; its exemplar names that trace", async () => {
    await using app = served();
    const response = await fetch(
      `${app.url}/payments`,
      postJson(paymentRequest("TR-NEW"), { "x-correlation-id": "c-new-trace" }),
    );
    assert.equal(response.status, 202);
    await response.body?.cancel();
    const sent = spanContextFromHeaders(app.publisher.published[0]!.headers)!;
    assert.match(sent.traceId, /^[0-9a-f]{32}$/);
    assert.match(
      (await durationExemplar(app.url))!,
      new RegExp(` # \\{trace_id="${sent.traceId}",correlation_id="c-new-trace"\\} `),
    );
  });
}
