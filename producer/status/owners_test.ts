import assert from "node:assert/strict";
import type { TaskGroupView } from "@payments/shared/task_group";
import { createOwnerDirectory, type GroupSnapshot } from "./owners.ts";

/** A snapshot whose group state names it, so tests can tell snapshots apart. */
function snapshot(state: string): GroupSnapshot {
  const view: TaskGroupView = { state, protocol: "PaymentTasks", members: [] };
  return { view, partitions: { payments: 6, customers: 6 } };
}

/** A `load` whose calls are answered one by one by the test. */
function controlledLoad() {
  const pending: PromiseWithResolvers<GroupSnapshot>[] = [];
  return {
    calls: () => pending.length,
    load: () => {
      const call = Promise.withResolvers<GroupSnapshot>();
      pending.push(call);
      return call.promise;
    },
    answer: (i: number, value: GroupSnapshot) => pending[i]!.resolve(value),
    fail: (i: number, error: Error) => pending[i]!.reject(error),
  };
}

Deno.test("the directory loads the group once and serves it while it is younger than maxAgeMs", async () => {
  let now = 0;
  const source = controlledLoad();
  const owners = createOwnerDirectory({ load: source.load, now: () => now, maxAgeMs: 1000 });
  const first = owners.snapshot();
  const second = owners.snapshot();
  assert.equal(source.calls(), 1, "waiting readers share one load");
  source.answer(0, snapshot("Stable"));
  assert.equal((await first).view.state, "Stable");
  assert.equal((await second).view.state, "Stable");
  now = 999;
  assert.equal((await owners.snapshot()).view.state, "Stable");
  assert.equal(source.calls(), 1);
});

Deno.test("an old snapshot is served at once while one refresh runs in the background", async () => {
  let now = 0;
  const source = controlledLoad();
  const owners = createOwnerDirectory({ load: source.load, now: () => now, maxAgeMs: 1000 });
  const first = owners.snapshot();
  source.answer(0, snapshot("one"));
  await first;
  now = 1500;
  assert.equal((await owners.snapshot()).view.state, "one", "no wait for Kafka");
  assert.equal((await owners.snapshot()).view.state, "one");
  assert.equal(source.calls(), 2, "one refresh for both reads");
  source.answer(1, snapshot("two"));
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.equal((await owners.snapshot()).view.state, "two");
});

Deno.test("a failed background refresh keeps the snapshot; a dropped one makes readers wait for a fresh one", async () => {
  let now = 0;
  const source = controlledLoad();
  const owners = createOwnerDirectory({ load: source.load, now: () => now, maxAgeMs: 1000 });
  const first = owners.snapshot();
  source.answer(0, snapshot("one"));
  const seen = await first;
  now = 2000;
  await owners.snapshot();
  source.fail(1, new Error("coordinator loading"));
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.equal((await owners.snapshot()).view.state, "one", "kept after a failed refresh");
  assert.equal(source.calls(), 2, "no second refresh within maxAgeMs of the failed one");

  owners.invalidate(seen);
  const waiting = [owners.snapshot(), owners.snapshot()];
  assert.equal(source.calls(), 3, "every reader of the dropped snapshot shares one load");
  source.answer(2, snapshot("fresh"));
  assert.deepEqual((await Promise.all(waiting)).map((s) => s.view.state), ["fresh", "fresh"]);
});

Deno.test("invalidating a snapshot that was already replaced keeps the newer one", async () => {
  const source = controlledLoad();
  const owners = createOwnerDirectory({ load: source.load, now: () => 0 });
  const first = owners.snapshot();
  source.answer(0, snapshot("old"));
  const old = await first;
  owners.invalidate(old);
  const second = owners.snapshot();
  source.answer(1, snapshot("new"));
  await second;
  owners.invalidate(old); // a reader that still held the old one
  assert.equal((await owners.snapshot()).view.state, "new");
  assert.equal(source.calls(), 2);
});

Deno.test("a load started before a drop is never served after it", async () => {
  let now = 0;
  const source = controlledLoad();
  const owners = createOwnerDirectory({ load: source.load, now: () => now, maxAgeMs: 1000 });
  const first = owners.snapshot();
  source.answer(0, snapshot("one"));
  const seen = await first;
  now = 1500;
  await owners.snapshot(); // starts a background refresh (call 1)
  owners.invalidate(seen);
  const waiting = owners.snapshot(); // must not take the refresh started before the drop
  assert.equal(source.calls(), 3);
  source.answer(1, snapshot("before the drop"));
  source.answer(2, snapshot("after the drop"));
  assert.equal((await waiting).view.state, "after the drop");
  assert.equal((await owners.snapshot()).view.state, "after the drop");
});

Deno.test("a failed load answers for itself for retryMs, then Kafka is asked again", async () => {
  let now = 0;
  const source = controlledLoad();
  const owners = createOwnerDirectory({ load: source.load, now: () => now, retryMs: 250 });
  const first = owners.snapshot();
  source.fail(0, new Error("Cannot describe consumer group g: broker down"));
  await assert.rejects(first, /broker down/);
  now = 249;
  await assert.rejects(owners.snapshot(), /broker down/);
  assert.equal(source.calls(), 1, "no describe per read while the broker refuses");
  now = 250;
  const second = owners.snapshot();
  assert.equal(source.calls(), 2, "asked again once retryMs passed");
  source.answer(1, snapshot("Stable"));
  assert.equal((await second).view.state, "Stable");
});
