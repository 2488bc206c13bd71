import assert from "node:assert/strict";
import { chunkBySize, recordBytes } from "./send_chunks.ts";
import type { OutputRecord } from "./results.ts";

const record = (value: string, topic = "t"): OutputRecord => ({
  topic,
  partition: 0,
  key: "k",
  value,
  headers: { h: "v" },
});

Deno.test("records are grouped in order into sends under the byte budget", () => {
  const records = Array.from({ length: 10 }, (_, i) => record(String(i).repeat(100)));
  const budget = recordBytes(records[0]!) * 3;
  const chunks = chunkBySize(records, budget);
  assert.deepEqual(chunks.map((c) => c.length), [3, 3, 3, 1]);
  assert.deepEqual(chunks.flat(), records);
  for (const chunk of chunks) {
    assert.ok(chunk.reduce((sum, r) => sum + recordBytes(r), 0) <= budget);
  }
});

Deno.test("a record larger than the budget travels alone and nothing is dropped", () => {
  const big = record("x".repeat(10_000));
  const chunks = chunkBySize([record("a"), big, record("b")], 1000);
  assert.deepEqual(chunks.map((c) => c.length), [1, 1, 1]);
  assert.equal(chunks[1]![0], big);
});

Deno.test("2000 results of realistic size never make a send over 256 KiB", () => {
  const result = JSON.stringify({
    payment_id: "P".repeat(36),
    outcome: "APPROVED",
    pad: "x".repeat(300),
  });
  const chunks = chunkBySize(Array.from({ length: 2000 }, () => record(result)));
  assert.ok(chunks.length > 1);
  assert.equal(chunks.flat().length, 2000);
});
