import assert from "node:assert/strict";
import { type LagSample, partitionStatus } from "./partition_status.ts";

const s = (position: number, lag: number): LagSample => ({ position, lag });

Deno.test("Burrow status: ok, stall, warn, stop, rewind", () => {
  assert.equal(partitionStatus([s(5, 0), s(5, 3), s(5, 6)], true, 3), "ok");
  assert.equal(partitionStatus([s(5, 3), s(5, 6), s(5, 9)], true, 3), "stall");
  assert.equal(partitionStatus([s(5, 3), s(6, 6), s(7, 9)], true, 3), "warn");
  assert.equal(partitionStatus([s(5, 9), s(6, 6), s(7, 3)], true, 3), "ok");
  assert.equal(partitionStatus([s(5, 3)], false, 3), "stop");
  assert.equal(partitionStatus([s(5, 0)], false, 3), "ok");
  assert.equal(partitionStatus([s(9, 0), s(0, 9)], true, 3), "rewind");
  // A window not yet full never stalls.
  assert.equal(partitionStatus([s(5, 3), s(5, 6)], true, 3), "ok");
});
