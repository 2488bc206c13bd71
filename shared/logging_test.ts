import assert from "node:assert/strict";
import { getLogger, type LogRecord, withContext } from "@logtape/logtape";
import {
  configureLogging,
  formatJsonLine,
  getPrettyFormatter,
  oneLine,
  shortCorrelationId,
} from "./logging.ts";

Deno.test("every line logged inside withContext carries the correlation id as a JSON field", async () => {
  const records: LogRecord[] = [];
  await using _logging = await configureLogging(
    { level: "debug", format: "json" },
    { stdout: false, extraSink: (record) => records.push(record) },
  );
  await withContext({ correlation_id: "corr-42" }, async () => {
    await Promise.resolve();
    getLogger(["producer", "test"]).info("accepted {count} payments", { count: 3, batch_id: "b1" });
  });
  getLogger(["producer", "test"]).debug("outside");

  assert.equal(records.length, 2);
  const line = JSON.parse(formatJsonLine(records[0]!));
  assert.equal(line.level, "info");
  assert.equal(line.logger, "producer.test");
  assert.equal(line.message, "accepted 3 payments");
  assert.equal(line.correlation_id, "corr-42");
  assert.equal(line.batch_id, "b1");
  assert.match(line.timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  assert.equal(JSON.parse(formatJsonLine(records[1]!)).correlation_id, undefined);
});

Deno.test("records below the configured level are not emitted", async () => {
  const records: LogRecord[] = [];
  await using _logging = await configureLogging(
    { level: "warning", format: "json" },
    { stdout: false, extraSink: (record) => records.push(record) },
  );
  getLogger(["x"]).info("hidden");
  getLogger(["x"]).warn("shown");
  assert.deepEqual(records.map((r) => r.level), ["warning"]);
});

Deno.test("errors are logged as name and message, one line each", () => {
  const line = formatJsonLine({
    category: ["c"],
    level: "error",
    message: ["failed"],
    rawMessage: "failed",
    timestamp: 0,
    properties: { error: new TypeError("boom\nsecond line") },
  });
  assert.equal(line.split("\n").length, 2);
  assert.deepEqual(JSON.parse(line).error, { name: "TypeError", message: "boom\nsecond line" });
});

function record(properties: Record<string, unknown>, template: string, message: unknown[]) {
  return {
    category: ["consumer"],
    level: "info" as const,
    message,
    rawMessage: template,
    timestamp: Date.UTC(2026, 0, 1, 9, 30, 5, 123),
    properties,
  };
}

const APPROVED = record(
  {
    correlation_id: "5d0c1e2a-9f4b-4c1d-8e7f-0a1b2c3d4e5f",
    trace_id: "4bf92f3577b34da6a3ce929d0e0e4736",
    span_id: "00f067aa0ba902b7",
    payment_id: "TEST-001",
    outcome: "APPROVED",
    reason: null,
    partition: 3,
    offset: 17,
    processing_ms: 0.42,
  },
  "Payment {payment_id} {outcome}",
  ["Payment ", "TEST-001", " ", "APPROVED", ""],
);

Deno.test("a pretty line shows the short correlation and trace ids and the fields the message does not", () => {
  const line = getPrettyFormatter({ color: false })(APPROVED);
  assert.match(line, /INF consumer: Payment TEST-001 APPROVED cid=5d0c1e2a tid=4bf92f35 /);
  assert.match(line, / partition=3 offset=17 processing_ms=0\.42\n$/);
  assert.doesNotMatch(
    line,
    /payment_id=|outcome=|trace_id|span_id|reason=/,
    "no repeats, no nulls, the trace id once",
  );
  assert.ok(!line.includes("\x1b["), "no colour unless asked");
  assert.ok(getPrettyFormatter({ color: true })(APPROVED).includes("\x1b["), "colour when asked");
});

Deno.test("pretty field values stay on one bounded line, quoted when they hold spaces", () => {
  const line = getPrettyFormatter({ color: false })(record(
    {
      detail: 'two "words"\nand a line',
      error: new TypeError("boom\nagain"),
      long: "x".repeat(500),
    },
    "refused",
    ["refused"],
  ));
  assert.equal(line.split("\n").length, 2, line);
  assert.match(line, /detail="two \\"words\\"\\nand a line"/);
  assert.match(line, /error="TypeError: boom\\nagain"/);
  assert.ok(line.length < 400, `bounded: ${line.length}`);
});

Deno.test("oneLine escapes control characters and bounds the length; short ids keep UUID heads", () => {
  assert.equal(oneLine("/a\nb\x1b[31m\tc\x00", 100), "/a\\nb\\x1b[31m\\tc\\x00");
  assert.equal(oneLine("abcdef", 3), "abc…");
  assert.equal(shortCorrelationId("5d0c1e2a-9f4b-4c1d-8e7f-0a1b2c3d4e5f"), "5d0c1e2a");
  assert.equal(shortCorrelationId("req-42"), "req-42");
});

Deno.test("JSON lines name the service when it is given", () => {
  const line = JSON.parse(formatJsonLine(APPROVED, "consumer"));
  assert.equal(line.service, "consumer");
  assert.equal(line.correlation_id, APPROVED.properties.correlation_id);
  assert.deepEqual(Object.keys(line).slice(0, 5), [
    "timestamp",
    "level",
    "service",
    "logger",
    "message",
  ]);
  assert.equal(JSON.parse(formatJsonLine(APPROVED)).service, undefined);
});
