import assert from "node:assert/strict";
import { Registry } from "prom-client";
import {
  createLagMonitor,
  type LagAdmin,
  lagMessages,
  type LagSample,
  partitionStatus,
  recordTimestamp,
} from "./lag.ts";

Deno.test("lag is log end minus committed offset, never negative", () => {
  assert.deepEqual(lagMessages(7, 0, 10), { position: 7, lag: 3 });
  assert.deepEqual(lagMessages(12, 0, 10), { position: 12, lag: 0 });
});

Deno.test("a partition without a committed offset is measured from where the group starts", () => {
  assert.deepEqual(lagMessages(null, 4, 10, "earliest"), { position: 4, lag: 6 });
  assert.deepEqual(lagMessages(null, 4, 10, "latest"), { position: 10, lag: 0 });
  // Committed offset deleted by retention: the group resumes at the log start.
  assert.deepEqual(lagMessages(1, 4, 10), { position: 4, lag: 6 });
});

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

function fakeAdmin(state: { committed: number; end: number; times: number[]; members: number }) {
  const admin = {
    describeGroups: () => Promise.resolve({ groups: [{ members: Array(state.members).fill({}) }] }),
    fetchOffsets: () =>
      Promise.resolve([{
        topic: "t",
        partitions: [{ partition: 0, offset: String(state.committed) }],
      }]),
    fetchTopicOffsets: () =>
      Promise.resolve([{
        partition: 0,
        offset: String(state.end),
        high: String(state.end),
        low: "0",
      }]),
    fetchTopicOffsetsByTimestamp: (_topic: string, t?: number) => {
      const index = state.times.findIndex((time) => time >= (t ?? 0));
      return Promise.resolve([{ partition: 0, offset: String(index === -1 ? state.end : index) }]);
    },
  };
  return admin as unknown as LagAdmin;
}

Deno.test("the monitor exports lag messages and seconds that keep rising while nobody consumes", async () => {
  let now = 100_000;
  const state = { committed: -1, end: 3, times: [10_000, 20_000, 30_000], members: 0 };
  const registry = new Registry();
  const monitor = createLagMonitor({
    admin: fakeAdmin(state),
    groupId: "g",
    topics: ["t"],
    registry,
    now: () => now,
  });
  let [lag] = await monitor.poll();
  assert.equal(lag!.committed, null);
  assert.equal(lag!.lagMessages, 3);
  assert.ok(Math.abs(lag!.lagSeconds - 90) <= 1, `${lag!.lagSeconds}`);
  assert.equal(lag!.status, "stop");
  now += 60_000;
  [lag] = await monitor.poll();
  assert.ok(Math.abs(lag!.lagSeconds - 150) <= 2, `${lag!.lagSeconds}`);
  state.committed = 3;
  state.members = 1;
  [lag] = await monitor.poll();
  assert.equal(lag!.lagMessages, 0);
  assert.equal(lag!.lagSeconds, 0);
  const text = await registry.metrics();
  assert.match(text, /consumer_lag_messages\{group="g",topic="t",partition="0"\} 0/);
  assert.match(
    text,
    /consumer_partition_status\{group="g",topic="t",partition="0",status="ok"\} 1/,
  );
  assert.match(
    text,
    /consumer_partition_status\{group="g",topic="t",partition="0",status="stop"\} 0/,
  );
  assert.equal(monitor.snapshot().length, 1);
});

Deno.test("the monitor polls on its timer and stops cleanly", async () => {
  const state = { committed: 0, end: 0, times: [], members: 1 };
  const monitor = createLagMonitor({
    admin: fakeAdmin(state),
    groupId: "g",
    topics: ["t"],
    registry: new Registry(),
    intervalMs: 10,
  });
  monitor.start();
  await new Promise((resolve) => setTimeout(resolve, 50));
  await monitor.stop();
  assert.equal(monitor.snapshot()[0]?.lagMessages, 0);
});
