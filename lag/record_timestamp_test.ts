import assert from "node:assert/strict";
import { recordTimestamp } from "./record_timestamp.ts";

/** A fake log: record i has timestamp times[i]; ListOffsets by timestamp semantics. */
function log(times: number[]) {
  let calls = 0;
  const firstAtOrAfter = (t: number) => {
    calls++;
    const index = times.findIndex((time) => time >= t);
    return Promise.resolve(index === -1 ? times.length : index);
  };
  return { firstAtOrAfter, calls: () => calls };
}

Deno.test("the timestamp of the record at an offset is found from ListOffsets answers", async () => {
  const now = 1_000_000;
  const times = [100_000, 200_000, 900_000, 990_000];
  const { firstAtOrAfter } = log(times);
  const found = await recordTimestamp(firstAtOrAfter, 2, now);
  // Bisection stops at 1% of the age (~1 s here).
  assert.ok(Math.abs(found - 900_000) <= 1000, `found ${found}`);
  assert.ok(found <= 900_000);
  assert.equal(await recordTimestamp(firstAtOrAfter, 3, now), 990_000);
});

Deno.test("a record from the future (clock skew) has age 0, not a negative one", async () => {
  const { firstAtOrAfter } = log([2_000_000]);
  assert.equal(await recordTimestamp(firstAtOrAfter, 0, 1_000_000), 1_000_000);
});

Deno.test("a known lower bound keeps the search short", async () => {
  const times = Array.from({ length: 1000 }, (_, i) => 1_000_000 + i * 1000);
  const fresh = log(times);
  await recordTimestamp(fresh.firstAtOrAfter, 500, 3_000_000);
  const hinted = log(times);
  const found = await recordTimestamp(hinted.firstAtOrAfter, 500, 3_000_000, 1_499_000);
  assert.ok(Math.abs(found - 1_500_000) <= 20_000);
  assert.ok(hinted.calls() <= fresh.calls());
});
