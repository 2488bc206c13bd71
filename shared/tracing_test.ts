import assert from "node:assert/strict";
import {
  continueTrace,
  formatTraceparent,
  parseTraceparent,
  startTrace,
} from "@payments/shared/tracing";

const VALID = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

Deno.test("parseTraceparent reads the ids and flags of a valid version-00 header", () => {
  assert.deepEqual(parseTraceparent(VALID), {
    traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
    spanId: "00f067aa0ba902b7",
    flags: "01",
  });
});

Deno.test("parseTraceparent rejects malformed, upper-case, all-zero and ff headers", () => {
  for (
    const bad of [
      undefined,
      null,
      "",
      "garbage",
      VALID.toUpperCase(),
      "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
      "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
      `${VALID}-extra`,
      "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
    ]
  ) {
    assert.equal(parseTraceparent(bad), undefined, `accepted ${bad}`);
  }
});

Deno.test("parseTraceparent reads the known prefix of a future version", () => {
  const parsed = parseTraceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00-x");
  assert.equal(parsed?.traceId, "4bf92f3577b34da6a3ce929d0e0e4736");
  assert.equal(parsed?.flags, "00");
});

Deno.test("continueTrace keeps the trace id and flags and makes a new span id", () => {
  const span = continueTrace(VALID);
  assert.equal(span.traceId, "4bf92f3577b34da6a3ce929d0e0e4736");
  assert.equal(span.flags, "01");
  assert.equal(span.parentSpanId, "00f067aa0ba902b7");
  assert.notEqual(span.spanId, "00f067aa0ba902b7");
  assert.match(formatTraceparent(span), /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
});

Deno.test("continueTrace starts a new valid trace when the header is missing or invalid", () => {
  for (const header of [undefined, null, "nope"]) {
    const span = continueTrace(header);
    assert.equal(span.parentSpanId, undefined);
    assert.deepEqual(parseTraceparent(formatTraceparent(span)), {
      traceId: span.traceId,
      spanId: span.spanId,
      flags: "01",
    });
  }
  assert.notEqual(startTrace().traceId, startTrace().traceId);
});
