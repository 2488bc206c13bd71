import assert from "node:assert/strict";
import { planRestore } from "./restore_plan.ts";

Deno.test("a store with a checkpoint reads only what came after it", () => {
  const plan = planRestore({ changelogOffset: 120, entries: 90 }, { low: 0, high: 150 });
  assert.deepEqual([plan.kind, plan.from, plan.to], ["checkpoint", 120, 150]);
});

Deno.test("a store that is up to date reads nothing", () => {
  const plan = planRestore({ changelogOffset: 150, entries: 90 }, { low: 0, high: 150 });
  assert.deepEqual([plan.kind, plan.from, plan.to], ["checkpoint", 150, 150]);
});

Deno.test("an empty store is rebuilt from the earliest offset the changelog keeps", () => {
  const plan = planRestore({ changelogOffset: 0, entries: 0 }, { low: 40, high: 150 });
  assert.deepEqual([plan.kind, plan.from, plan.to], ["rebuild", 40, 150]);
});

Deno.test("a checkpoint below the log start reads from the log start (older records were deleted by retention)", () => {
  const plan = planRestore({ changelogOffset: 10, entries: 5 }, { low: 40, high: 150 });
  assert.deepEqual([plan.kind, plan.from, plan.to], ["checkpoint", 40, 150]);
});

Deno.test("a checkpoint past the changelog's end means the topic was recreated: reset and rebuild", () => {
  const plan = planRestore({ changelogOffset: 500, entries: 300 }, { low: 0, high: 20 });
  assert.deepEqual([plan.kind, plan.from, plan.to], ["reset", 0, 20]);
  assert.match(plan.reason, /recreated/);
});
