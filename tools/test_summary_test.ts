import assert from "node:assert/strict";
import { parseSummaryLine, summarizeDenoTest } from "./test_summary.ts";

Deno.test("deno test's closing line is parsed with and without steps", () => {
  assert.deepEqual(parseSummaryLine("ok | 27 passed | 0 failed (605ms)"), {
    passed: 27,
    failed: 0,
  });
  assert.deepEqual(parseSummaryLine("FAILED | 3 passed (4 steps) | 2 failed | 1 ignored (1s)"), {
    passed: 3,
    failed: 2,
  });
  assert.equal(parseSummaryLine("test x ... ok (3ms)"), undefined);
});

Deno.test("a streamed run is echoed whole and a run without a summary counts as failed", async () => {
  const encoder = new TextEncoder();
  const stream = (text: string) => ReadableStream.from([encoder.encode(text)]);
  const echoed: string[] = [];
  const decoder = new TextDecoder();
  const summary = await summarizeDenoTest(
    stream("running 2 tests\nok | 2 passed | 0 failed (1ms)\n"),
    (chunk) => echoed.push(decoder.decode(chunk)),
  );
  assert.deepEqual(summary, { passed: 2, failed: 0 });
  assert.equal(echoed.join(""), "running 2 tests\nok | 2 passed | 0 failed (1ms)\n");
  assert.deepEqual(await summarizeDenoTest(stream("panic\n"), () => {}), {
    passed: 0,
    failed: 1,
  });
});
