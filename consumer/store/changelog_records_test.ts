import assert from "node:assert/strict";
import {
  type DecidedPayment,
  decisionRecord,
  PROGRESS_KEY,
  progressRecord,
  readChangelogRecord,
} from "./changelog_records.ts";

const decision: DecidedPayment = {
  paymentId: "P-1",
  outcome: "DECLINED",
  customerId: "C-1",
  createdAtMs: Date.parse("2026-12-01T07:10:09.523Z"),
  decidedAtMs: Date.parse("2026-12-01T07:10:09.600Z"),
  inputPartition: 4,
  inputOffset: 1234,
};

Deno.test("a decision record is keyed by payment id on the input's partition and reads back the same", () => {
  const record = decisionRecord(decision, "payment_decisions");
  assert.deepEqual([record.topic, record.partition, record.key], ["payment_decisions", 4, "P-1"]);
  assert.deepEqual(JSON.parse(record.value as string), {
    payment_id: "P-1",
    outcome: "DECLINED",
    customer_id: "C-1",
    created_at: "2026-12-01T07:10:09.523Z",
    decided_at: "2026-12-01T07:10:09.600Z",
    input_partition: 4,
    input_offset: 1234,
  });
  const bytes = new TextEncoder().encode(record.value as string);
  assert.deepEqual(readChangelogRecord(new TextEncoder().encode("P-1"), bytes), {
    kind: "decision",
    decision,
  });
});

Deno.test("a progress record names the last input offset and cannot be a payment id", () => {
  const record = progressRecord({ inputPartition: 2, inputOffset: 99 }, "payment_decisions");
  assert.equal(record.key, PROGRESS_KEY);
  assert.doesNotMatch(PROGRESS_KEY, /^[A-Za-z0-9]/);
  assert.deepEqual(readChangelogRecord(record.key, record.value), {
    kind: "progress",
    progress: { inputPartition: 2, inputOffset: 99 },
  });
});

Deno.test("records this version does not understand read as undefined instead of throwing", () => {
  for (
    const [key, value] of [
      [null, "{}"],
      ["P-1", null],
      ["P-1", "not json"],
      ["P-1", "[1]"],
      [
        "P-1",
        JSON.stringify({
          payment_id: "P-1",
          outcome: "DUPLICATE",
          input_partition: 0,
          input_offset: 1,
        }),
      ],
      ["P-1", JSON.stringify({ payment_id: "P-1", outcome: "APPROVED", input_partition: "0" })],
    ] as const
  ) {
    assert.equal(readChangelogRecord(key, value), undefined, `${key} ${value}`);
  }
});
