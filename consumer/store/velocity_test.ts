import assert from "node:assert/strict";
import { VELOCITY_HORIZON_MS, VelocityTracker } from "./velocity.ts";

Deno.test("velocity counts a customer's payments created in the minute up to a time", () => {
  const tracker = new VelocityTracker();
  tracker.add("C-1", "P-1", 0);
  tracker.add("C-1", "P-2", 30_000);
  tracker.add("C-1", "P-2", 30_000); // the same payment twice counts once
  tracker.add("C-1", "P-3", 61_000);
  assert.equal(tracker.countInWindow("C-1", 59_999), 2);
  assert.equal(tracker.countInWindow("C-1", 61_000), 2);
  assert.equal(tracker.countInWindow("C-2", 61_000), 0);
});

Deno.test("velocity memory is bounded by customers and times per customer", () => {
  const tracker = new VelocityTracker(2, 3);
  for (let i = 0; i < 5; i++) tracker.add("C-1", `P-${i}`, i);
  assert.equal(tracker.countInWindow("C-1", 10), 3);
  tracker.add("C-2", "X", 0);
  tracker.add("C-3", "Y", 0);
  assert.equal(tracker.countInWindow("C-1", 10), 0);
  assert.equal(tracker.countInWindow("C-3", 0), 1);
  assert.equal(tracker.size, 2);
});

Deno.test("times older than the horizon before a customer's newest payment are dropped", () => {
  const tracker = new VelocityTracker();
  tracker.add("C-1", "OLD", 0);
  tracker.add("C-1", "NEW", VELOCITY_HORIZON_MS + 1);
  assert.equal(tracker.countInWindow("C-1", 0), 0);
  assert.equal(tracker.countInWindow("C-1", VELOCITY_HORIZON_MS + 1), 1);
  // A payment that arrives late (created earlier) still counts if within the horizon.
  tracker.add("C-1", "LATE", VELOCITY_HORIZON_MS - 10);
  assert.equal(tracker.countInWindow("C-1", VELOCITY_HORIZON_MS), 1);
});
