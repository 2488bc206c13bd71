import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { buildDlqRecord, MAX_DLQ_ERROR_LENGTH } from "./dlq.ts";
import { buildResultRecord, readOrigin } from "./results.ts";

const source = { topic: "payment_requests", partition: 7, offset: "42" };

Deno.test("a dead letter keeps key, value bytes and original headers and adds every DLQ header", () => {
  const value = new Uint8Array([0x7b, 0xff]);
  const record = buildDlqRecord(
    {
      key: Buffer.from("P-1"),
      value,
      timestamp: "1700000000000",
      headers: { correlation_id: Buffer.from("c-1"), traceparent: "00-abc" },
    },
    source,
    { reason: "invalid_json", error: "x".repeat(5000), attempts: 1, failedAt: new Date(0) },
    "payment_requests.dlq",
    6,
  );
  assert.equal(record.partition, 1);
  assert.equal(record.value, value);
  assert.equal(Buffer.from(record.key as Uint8Array).toString(), "P-1");
  assert.equal(Buffer.from(record.headers.correlation_id as Uint8Array).toString(), "c-1");
  assert.deepEqual(
    Object.fromEntries(
      [
        "dlq_reason",
        "original_topic",
        "original_partition",
        "original_offset",
        "original_timestamp",
        "attempts",
        "failed_at",
      ]
        .map((h) => [h, record.headers[h]]),
    ),
    {
      dlq_reason: "invalid_json",
      original_topic: "payment_requests",
      original_partition: "7",
      original_offset: "42",
      original_timestamp: "1700000000000",
      attempts: "1",
      failed_at: "1970-01-01T00:00:00.000Z",
    },
  );
  assert.equal((record.headers.dlq_error as string).length, MAX_DLQ_ERROR_LENGTH);
});

Deno.test("a null-valued record is dead-lettered with a null value", () => {
  const record = buildDlqRecord(
    { key: null, value: null, timestamp: "1" },
    source,
    { reason: "null_value", error: "record value is null", attempts: 1, failedAt: new Date() },
    "dlq",
    6,
  );
  assert.equal(record.value, null);
  assert.equal(record.key, null);
});

Deno.test("a result goes to the request's partition, keyed by payment id, tagged with its origin", () => {
  const record = buildResultRecord(
    {
      payment_id: "P-1",
      outcome: "APPROVED",
      reason: null,
      amount: 1,
      currency: "USD",
      merchant_id: "M",
      customer_id: "C",
      correlation_id: "c-1",
      created_at: "2026-01-01T00:00:00.000Z",
      processed_at: "2026-01-01T00:00:01.000Z",
    },
    source,
    { correlationId: "c-1", traceparent: undefined },
    "payment_results",
    12,
  );
  assert.equal(record.partition, 7);
  assert.equal(record.key, "P-1");
  assert.equal(record.headers.origin, "payment_requests:7:42");
  assert.deepEqual(readOrigin(record.headers as Record<string, string>), {
    topic: "payment_requests",
    partition: 7,
    offset: "42",
  });
  assert.equal(record.headers.correlation_id, "c-1");
  assert.equal("traceparent" in record.headers, false);
  assert.equal(JSON.parse(record.value as string).outcome, "APPROVED");
});

Deno.test("a result written before the one origin header is still understood", () => {
  assert.deepEqual(
    readOrigin({
      original_topic: "payment_requests",
      original_partition: "2",
      original_offset: "9",
    }),
    { topic: "payment_requests", partition: 2, offset: "9" },
  );
  assert.equal(readOrigin({ origin: "no offsets" }), undefined);
  assert.equal(readOrigin({}), undefined);
});
