import assert from "node:assert/strict";
import { createDevOutput } from "./prefixed.ts";

const NOW = new Date("2026-01-01T09:30:05.123Z");

function capture(json: boolean) {
  const written: string[] = [];
  const output = createDevOutput({ json, write: (text) => written.push(text), now: () => NOW });
  return { output, written };
}

Deno.test("pretty output prefixes every line with its process and drops blank ones", () => {
  const { output, written } = capture(false);
  output.line("kafka", "Kafka ready on localhost:9092", "stdout");
  output.line("kafka", "", "stderr");
  output.line("kafka", "   ", "stdout");
  // What a process that resets its colours on a signal prints: nothing to read.
  output.line("kafka", "\x1b[0m\x1b[0m", "stdout");
  output.line("prometheus", "level=warn msg=x", "stderr");
  output.say("stopping...");
  assert.deepEqual(written, [
    "[kafka]      Kafka ready on localhost:9092\n",
    "[prometheus] level=warn msg=x\n",
    "stopping...\n",
  ]);
});

Deno.test("JSON output keeps a service's own lines, names the service, wraps anything else", () => {
  const { output, written } = capture(true);
  const own = '{"timestamp":"t","level":"info","service":"producer","message":"m"}';
  output.line("producer", own, "stdout");
  output.line("consumer", '{"level":"info","message":"no service"}', "stdout");
  output.line("producer", "\x1b[0m\x1b[38;5;12mWatcher\x1b[0m Process started.", "stderr");
  output.line("producer", "error: Uncaught TypeError: boom", "stderr");
  output.line("prometheus", 'ts=x level=warn msg="Received SIGTERM"', "stderr");
  output.line("kafka", "", "stdout");
  output.say("stopping...");
  assert.equal(written[0], `${own}\n`);
  const records = written.map((line) => JSON.parse(line));
  assert.equal(records.length, 6, "the blank line is dropped");
  assert.deepEqual(records[1], { level: "info", message: "no service", service: "consumer" });
  assert.deepEqual(
    records.slice(2).map((r) => [r.service, r.level, r.message]),
    [
      ["producer", "info", "Watcher Process started."],
      ["producer", "error", "error: Uncaught TypeError: boom"],
      ["prometheus", "warning", 'ts=x level=warn msg="Received SIGTERM"'],
      ["dev", "info", "stopping..."],
    ],
  );
  assert.equal(records[2].timestamp, NOW.toISOString());
});
