import assert from "node:assert/strict";
import type { PaymentEvent } from "@payments/shared/payment";
import { ChunkDecisions } from "./chunk_decisions.ts";
import type { Rules } from "./config.ts";
import { VelocityTracker } from "./store/velocity.ts";

const rules: Rules = {
  amountLimits: {},
  defaultAmountLimit: 5000,
  blockedMerchants: new Set(),
  velocityMaxPerMinute: 2,
};

const at = (seconds: number) => new Date(Date.UTC(2026, 11, 1, 12, 0, seconds)).toISOString();

function event(id: string, customer: string, seconds: number): PaymentEvent {
  return {
    payment_id: id,
    amount: 10,
    merchant_id: "M-1",
    customer_id: customer,
    currency: "USD",
    description: null,
    status: "PENDING",
    created_at: at(seconds),
    correlation_id: `corr-${id}`,
    source: "test",
  };
}

Deno.test("an id decided before the chunk, or earlier in it, is a DUPLICATE", () => {
  const decisions = new ChunkDecisions(new Set(["OLD"]), new VelocityTracker(), rules);
  assert.equal(decisions.decide(event("OLD", "C-1", 0)).outcome, "DUPLICATE");
  assert.equal(decisions.decide(event("NEW", "C-2", 0)).outcome, "APPROVED");
  assert.equal(decisions.decide(event("NEW", "C-2", 1)).outcome, "DUPLICATE");
});

Deno.test("velocity counts committed payments and this chunk's, but not its duplicates", () => {
  const velocity = new VelocityTracker();
  velocity.add("C-1", "EARLIER", Date.parse(at(0)));
  const decisions = new ChunkDecisions(new Set(), velocity, rules);
  assert.equal(decisions.decide(event("A", "C-1", 10)).outcome, "APPROVED");
  assert.equal(decisions.decide(event("A", "C-1", 11)).outcome, "DUPLICATE");
  const third = decisions.decide(event("B", "C-1", 20));
  assert.deepEqual([third.outcome, third.reason], ["DECLINED", "velocity_exceeded"]);
  // A minute later the earlier payments no longer count.
  assert.equal(decisions.decide(event("C", "C-1", 81)).outcome, "APPROVED");
});
