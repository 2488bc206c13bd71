import assert from "node:assert/strict";
import fc from "fast-check";
import { noTasks, TASK_KINDS, type TaskPartitions } from "@payments/shared/task_group";
import { type AssignableMember, assignTasks } from "./assign_tasks.ts";

const member = (
  memberId: string,
  owned: Partial<TaskPartitions> = {},
  warm: Partial<TaskPartitions> = {},
): AssignableMember => ({
  memberId,
  info: { owned: { ...noTasks(), ...owned }, warm: { ...noTasks(), ...warm } },
});

Deno.test("one member gets every task and no standby", () => {
  const tasks = assignTasks({
    members: [member("a")],
    partitions: { payments: 3, customers: 3 },
    standbyReplicas: 1,
  }).get("a")!;
  assert.deepEqual(tasks.active, { payments: [0, 1, 2], customers: [0, 1, 2] });
  assert.deepEqual(tasks.standby, noTasks());
});

Deno.test("a task stays with its owner, a moved task goes to the member holding it warm", () => {
  const assignment = assignTasks({
    members: [
      member("a", { payments: [0, 1, 2, 3] }),
      member("b", {}, { payments: [4, 5] }),
      member("c"),
    ],
    partitions: { payments: 6, customers: 0 },
    standbyReplicas: 0,
  });
  assert.deepEqual(assignment.get("a")!.active.payments, [0, 1]);
  assert.deepEqual(assignment.get("b")!.active.payments, [4, 5]);
  assert.deepEqual(assignment.get("c")!.active.payments, [2, 3]);
});

Deno.test("standbys go to the warm member first, never to the owner", () => {
  const assignment = assignTasks({
    members: [member("a", { payments: [0] }), member("b"), member("c", {}, { payments: [0] })],
    partitions: { payments: 1, customers: 0 },
    standbyReplicas: 1,
  });
  assert.deepEqual(assignment.get("a")!.active.payments, [0]);
  assert.deepEqual(assignment.get("c")!.standby.payments, [0]);
  assert.deepEqual(assignment.get("b")!.standby.payments, []);
});

Deno.test("every task has one owner and its standbys elsewhere, loads stay within one of each other, whatever the members held", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 6 }),
      fc.integer({ min: 1, max: 24 }),
      fc.integer({ min: 0, max: 3 }),
      fc.array(fc.array(fc.integer({ min: 0, max: 23 })), { minLength: 6, maxLength: 6 }),
      (n, partitions, replicas, held) => {
        const members = Array.from({ length: n }, (_, i) =>
          member(
            `m${i}`,
            { payments: held[i]!.filter((p) => p < partitions) },
            { payments: held[(i + 1) % 6]!.filter((p) => p < partitions) },
          ));
        const assignment = assignTasks({
          members,
          partitions: { payments: partitions, customers: partitions },
          standbyReplicas: replicas,
        });
        for (const kind of TASK_KINDS) {
          const loads = [...assignment.values()].map((t) => t.active[kind].length);
          assert.ok(Math.max(...loads) - Math.min(...loads) <= Math.ceil(partitions / n));
          assert.ok(Math.max(...loads) <= Math.ceil(partitions / n));
          for (let p = 0; p < partitions; p++) {
            const owners = [...assignment].filter(([, t]) => t.active[kind].includes(p));
            assert.equal(owners.length, 1, `one owner of ${kind} ${p}`);
            const standbys = [...assignment].filter(([, t]) => t.standby[kind].includes(p));
            assert.equal(standbys.length, Math.min(replicas, n - 1));
            assert.ok(standbys.every(([id]) => id !== owners[0]![0]), "not on the owner");
          }
        }
      },
    ),
  );
});
