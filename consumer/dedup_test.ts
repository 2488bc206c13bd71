import assert from "node:assert/strict";
import fc from "fast-check";
import { DedupWindow, VelocityTracker } from "./dedup.ts";

Deno.test("the dedup window remembers ids per partition", () => {
  const window = new DedupWindow(10);
  window.add(0, "P-1");
  assert.ok(window.has(0, "P-1"));
  assert.ok(!window.has(1, "P-1"));
});

Deno.test("the dedup window forgets the oldest id once full and never grows past its size", () => {
  const window = new DedupWindow(3);
  for (const id of ["a", "b", "c", "d"]) window.add(0, id);
  assert.ok(!window.has(0, "a"));
  assert.ok(window.has(0, "b") && window.has(0, "d"));
  assert.equal(window.size(0), 3);
});

Deno.test("the dedup window never exceeds its size and always knows the latest id", () => {
  fc.assert(
    fc.property(
      fc.array(fc.string({ minLength: 1, maxLength: 3 }), { minLength: 1 }),
      fc.integer({ min: 1, max: 20 }),
      (ids, size) => {
        const window = new DedupWindow(size);
        for (const id of ids) {
          window.add(0, id);
          assert.ok(window.has(0, id));
          assert.ok(window.size(0) <= size);
        }
      },
    ),
  );
});

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
});
