import assert from "node:assert/strict";
import { Registry } from "prom-client";
import { getLogger } from "@logtape/logtape";
import { createLagMonitor, type LagAdmin, lagMessages } from "./monitor.ts";

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
    logger: getLogger(["test", "lag"]),
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
    logger: getLogger(["test", "lag"]),
  });
  monitor.start();
  await new Promise((resolve) => setTimeout(resolve, 50));
  await monitor.stop();
  assert.equal(monitor.snapshot()[0]?.lagMessages, 0);
});
