import assert from "node:assert/strict";
import { type Claim, claimRecord, readClaim } from "../payments/claim_records.ts";
import { type Decision, decisionRecord, readDecision } from "../customers/decision_records.ts";
import { PROGRESS_KEY, progressRecord, readChangelogRecord } from "./changelog_records.ts";

const claim: Claim = {
  paymentId: "P-1",
  customerId: "C-1",
  createdAtMs: Date.parse("2026-12-01T07:10:09.523Z"),
  claimedAtMs: Date.parse("2026-12-01T07:10:09.600Z"),
  inputPartition: 4,
  inputOffset: 1234,
  correlationId: "corr-1",
  duplicates: 2,
};

const decision: Decision = {
  paymentId: "P-1",
  outcome: "DECLINED",
  reason: "velocity_exceeded",
  customerId: "C-1",
  createdAtMs: Date.parse("2026-12-01T07:10:09.523Z"),
  decidedAtMs: Date.parse("2026-12-01T07:10:09.700Z"),
  inputPartition: 4,
  inputOffset: 1234,
  forwardPartition: 1,
  forwardOffset: 77,
  correlationId: "corr-1",
};

const bytes = (text: string) => new TextEncoder().encode(text);

Deno.test("a claim record is keyed by payment id on the request's partition, headerless, and reads back the same", () => {
  const record = claimRecord(claim, "payment_decisions");
  assert.deepEqual([record.topic, record.partition, record.key], ["payment_decisions", 4, "P-1"]);
  assert.deepEqual(record.headers, {});
  assert.deepEqual(JSON.parse(record.value as string), {
    type: "claim",
    payment_id: "P-1",
    customer_id: "C-1",
    created_at: "2026-12-01T07:10:09.523Z",
    claimed_at: "2026-12-01T07:10:09.600Z",
    input_partition: 4,
    input_offset: 1234,
    correlation_id: "corr-1",
    duplicates: 2,
  });
  assert.deepEqual(
    readChangelogRecord(bytes("P-1"), bytes(record.value as string), readClaim),
    { kind: "row", row: claim },
  );
});

Deno.test("a decision record of the single-stage consumer reads as a claim carrying its outcome", () => {
  const legacy = JSON.stringify({
    payment_id: "P-9",
    outcome: "APPROVED",
    customer_id: "C-9",
    created_at: "2026-12-01T07:10:09.523Z",
    decided_at: "2026-12-01T07:10:09.600Z",
    input_partition: 3,
    input_offset: 12,
  });
  assert.deepEqual(readChangelogRecord("P-9", legacy, readClaim), {
    kind: "row",
    row: {
      paymentId: "P-9",
      customerId: "C-9",
      createdAtMs: Date.parse("2026-12-01T07:10:09.523Z"),
      claimedAtMs: Date.parse("2026-12-01T07:10:09.600Z"),
      inputPartition: 3,
      inputOffset: 12,
      correlationId: "",
      duplicates: 0,
      legacyOutcome: "APPROVED",
    },
  });
});

Deno.test("a decision record is keyed by payment id on the customer's partition and reads back the same", () => {
  const record = decisionRecord(decision, "payment_decisions.by_customer");
  assert.deepEqual([record.partition, record.key], [1, "P-1"]);
  assert.deepEqual(record.headers, {});
  assert.deepEqual(readChangelogRecord("P-1", record.value, readDecision), {
    kind: "row",
    row: decision,
  });
  assert.equal(readChangelogRecord("P-1", record.value, readClaim), undefined, "not a claim");
});

Deno.test("a progress record names the last input offset and cannot be a payment id", () => {
  const record = progressRecord(2, 99, "payment_decisions");
  assert.deepEqual([record.key, record.partition], [PROGRESS_KEY, 2]);
  assert.doesNotMatch(PROGRESS_KEY, /^[A-Za-z0-9]/);
  const progress = { kind: "progress", inputOffset: 99 };
  assert.deepEqual(readChangelogRecord(record.key, record.value, readClaim), progress);
  assert.deepEqual(readChangelogRecord(record.key, record.value, readDecision), progress);
});

Deno.test("records this version does not understand read as undefined instead of throwing", () => {
  for (
    const [key, value] of [
      [null, "{}"],
      ["P-1", null],
      ["P-1", "not json"],
      ["P-1", "[1]"],
      ["P-1", JSON.stringify({ payment_id: "P-1", outcome: "DUPLICATE", input_partition: 0 })],
      [
        "P-1",
        JSON.stringify({ ...JSON.parse(claimRecord(claim, "t").value as string), duplicates: -1 }),
      ],
      ["P-2", claimRecord(claim, "t").value as string],
      ["P-1", JSON.stringify({ type: "something-new", payment_id: "P-1" })],
      [PROGRESS_KEY, JSON.stringify({ input_offset: "7" })],
    ] as const
  ) {
    assert.equal(readChangelogRecord(key, value, readClaim), undefined, `${key} ${value}`);
    assert.equal(readChangelogRecord(key, value, readDecision), undefined, `${key} ${value}`);
  }
});
