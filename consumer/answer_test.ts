import assert from "node:assert/strict";
import { createAnswerer, type RecordToAnswer } from "./answer.ts";
import { ChunkDecisions } from "./chunk_decisions.ts";
import type { Rules } from "./config.ts";
import { parseRecord } from "./processor.ts";
import { VelocityTracker } from "./store/velocity.ts";

const rules: Rules = {
  amountLimits: {},
  defaultAmountLimit: 5000,
  blockedMerchants: new Set(),
  velocityMaxPerMinute: 100,
};
const topics = {
  requests: "payment_requests",
  results: "payment_results",
  dlq: "payment_dlq",
  decisions: "payment_decisions",
};

function record(createdAt: string, offset: number): RecordToAnswer {
  const value = new TextEncoder().encode(JSON.stringify({
    payment_id: `P-${offset}`,
    amount: 10,
    merchant_id: "M-1",
    customer_id: "C-1",
    currency: "USD",
    status: "PENDING",
    created_at: createdAt,
    correlation_id: `corr-${offset}`,
    source: "lab-producer",
  })) as Buffer;
  return {
    message: {
      key: null,
      value,
      timestamp: "0",
      attributes: 0,
      offset: String(offset),
      headers: {},
    } as RecordToAnswer["message"],
    partition: 0,
    parsed: parseRecord(value),
    trace: { correlation_id: `corr-${offset}`, traceparent: "" },
    traceparent: undefined,
  };
}

Deno.test("an answer says whether its payment's created_at had no offset, for results and dead letters", async () => {
  const answer = createAnswerer({
    topics,
    partitionCounts: { results: 3, dlq: 1 },
    attempt: (event) =>
      Promise.resolve(
        event.payment_id === "P-3"
          ? { ok: false, error: "downstream refused", attempts: 3 }
          : { ok: true, attempts: 1 },
      ),
  });
  const decisions = new ChunkDecisions(new Set(), new VelocityTracker(), rules);
  const naive = await answer(record("2026-12-01T07:10:09.523215", 1), decisions);
  assert.equal(naive.kind, "decided");
  assert.equal(naive.naiveCreatedAt, true);
  const zoned = await answer(record("2026-12-01T07:10:09.523Z", 2), decisions);
  assert.equal(zoned.naiveCreatedAt, false);
  const failed = await answer(record("2026-12-01T07:10:09", 3), decisions);
  assert.equal(failed.kind, "dead_letter");
  assert.equal(failed.naiveCreatedAt, true);
});
