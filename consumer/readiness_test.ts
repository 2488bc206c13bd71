import assert from "node:assert/strict";
import { readiness } from "./readiness.ts";
import type { TaskStatus, WorkerStatus } from "./status.ts";

const status = (state: WorkerStatus["state"], tasks: TaskStatus[] = []): WorkerStatus => ({
  state,
  assignedPartitions: [],
  assignedTasks: tasks,
});
const task = (kind: TaskStatus["kind"], partition: number, state: TaskStatus["state"]) => ({
  kind,
  partition,
  state,
});

Deno.test("ready only as a member whose every task runs, with Kafka answering", () => {
  const running = [task("payments", 0, "running"), task("customers", 0, "running")];
  assert.deepEqual(readiness(status("assigned", running), true), {
    ready: true,
    reason: "running 2 tasks: payments-0, customers-0",
  });
  assert.equal(readiness(status("assigned", running), false).ready, false);
  const restoring = readiness(
    status("assigned", [running[0]!, task("customers", 1, "restoring")]),
    true,
  );
  assert.deepEqual(restoring, { ready: false, reason: "restoring tasks customers-1" });
  assert.match(
    readiness(status("assigned", [task("payments", 3, "failed")]), true).reason,
    /payments-3 could not be prepared/,
  );
});

Deno.test("a member without partitions is ready and says why", () => {
  const verdict = readiness(status("waiting"), true);
  assert.equal(verdict.ready, true);
  assert.match(verdict.reason, /more instances than partitions/);
});

Deno.test("joining, rebalancing, starting, restarting, crashed and stopped are not ready, each with its reason", () => {
  for (
    const state of [
      "starting",
      "joining",
      "rebalancing",
      "restarting",
      "crashed",
      "stopped",
    ] as const
  ) {
    const verdict = readiness(status(state), true);
    assert.equal(verdict.ready, false, state);
    assert.ok(verdict.reason.length > 0);
  }
  assert.match(readiness(status("rebalancing"), true).reason, /rebalancing/);
  assert.match(readiness(status("joining"), true).reason, /no partitions assigned yet/);
});
