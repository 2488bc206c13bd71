import assert from "node:assert/strict";
import { getLogger, type LogRecord, withContext } from "@logtape/logtape";
import { configureLogging, formatJsonLine } from "./logging.ts";

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
