import assert from "node:assert/strict";
import fc from "fast-check";
import { Admission, type Admitted, type Entry } from "./admission.ts";

const limits = { maxInflightPayments: 500, maxQueuedRequests: 3 };

function entered(admission: Admission): Entry {
  const entry = admission.enter();
  assert.ok(entry.ok, "expected a place in the queue");
  return entry;
}

function admitted(entry: Entry, payments: number): Admitted {
  const result = entry.admit(payments);
  assert.ok(result.ok, `expected ${payments} payments to be admitted`);
  return result;
}

Deno.test("Admission takes requests while both budgets have room and counts what they hold", () => {
  const admission = new Admission(limits);
  const first = entered(admission);
  assert.deepEqual(admission.state(), { ...limits, inflightPayments: 0, queuedRequests: 1 });
  admitted(first, 100);
  assert.deepEqual(admission.state(), { ...limits, inflightPayments: 100, queuedRequests: 0 });
});

Deno.test("Admission sheds on arrival once maxQueuedRequests requests are being read", () => {
  const admission = new Admission(limits);
  const queue = [entered(admission), entered(admission), entered(admission)];
  assert.deepEqual(admission.enter(), { ok: false, reason: "queue_full" });
  queue[0]!.leave();
  assert.ok(admission.enter().ok, "a request leaving the queue makes room");
});

Deno.test("Admission sheds on arrival when the in-flight budget is full, before any body is read", () => {
  const admission = new Admission(limits);
  admitted(entered(admission), 500);
  assert.deepEqual(admission.enter(), { ok: false, reason: "inflight_full" });
  assert.equal(admission.state().queuedRequests, 0, "a shed request takes no place");
});

Deno.test("Admission sheds a request whose payments do not fit the room left, whole", () => {
  const admission = new Admission(limits);
  const held = admitted(entered(admission), 450);
  const late = entered(admission);
  assert.deepEqual(late.admit(100), { ok: false, reason: "inflight_full" });
  assert.deepEqual(admission.state(), { ...limits, inflightPayments: 450, queuedRequests: 0 });
  held.release();
  admitted(entered(admission), 500);
});

Deno.test("Admission takes a request that fills the budget exactly", () => {
  const admission = new Admission(limits);
  admitted(entered(admission), 400);
  admitted(entered(admission), 100);
  assert.equal(admission.state().inflightPayments, 500);
});

Deno.test("release and leave count once however often they are called", () => {
  const admission = new Admission(limits);
  const held = admitted(entered(admission), 200);
  held.release();
  held.release();
  const entry = entered(admission);
  entry.leave();
  entry.leave();
  assert.deepEqual(admission.state(), { ...limits, inflightPayments: 0, queuedRequests: 0 });
});

Deno.test("leave after admit does not free another request's queue place", () => {
  const admission = new Admission(limits);
  const entry = entered(admission);
  entered(admission);
  admitted(entry, 1);
  entry.leave();
  assert.equal(admission.state().queuedRequests, 1);
  assert.throws(() => entry.admit(1), /used twice/);
});

Deno.test("Admission refuses limits and payment counts that are not positive integers", () => {
  assert.throws(() => new Admission({ ...limits, maxQueuedRequests: 0 }), /maxQueuedRequests/);
  assert.throws(() => new Admission({ ...limits, maxInflightPayments: 1.5 }), /maxInflight/);
  const admission = new Admission(limits);
  assert.throws(() => entered(admission).admit(0), /at least one payment/);
});

Deno.test("under any interleaving the budgets are never exceeded and return to zero", () => {
  type Step =
    | { op: "enter" }
    | { op: "admit"; pick: number; payments: number }
    | { op: "leave"; pick: number }
    | { op: "release"; pick: number };
  const step = fc.oneof(
    fc.constant<Step>({ op: "enter" }),
    fc.record({
      op: fc.constant("admit" as const),
      pick: fc.nat(),
      payments: fc.integer({ min: 1, max: 500 }),
    }),
    fc.record({ op: fc.constant("leave" as const), pick: fc.nat() }),
    fc.record({ op: fc.constant("release" as const), pick: fc.nat() }),
  );
  fc.assert(
    fc.property(
      fc.integer({ min: 500, max: 2000 }),
      fc.integer({ min: 1, max: 8 }),
      fc.array(step, { maxLength: 200 }),
      (maxInflightPayments, maxQueuedRequests, steps) => {
        const admission = new Admission({ maxInflightPayments, maxQueuedRequests });
        const queue: Entry[] = [];
        const held: Array<{ admitted: Admitted; payments: number }> = [];
        let expectedInflight = 0;
        for (const s of steps) {
          if (s.op === "enter") {
            const entry = admission.enter();
            const full = queue.length >= maxQueuedRequests ||
              expectedInflight >= maxInflightPayments;
            assert.equal(entry.ok, !full);
            if (entry.ok) queue.push(entry);
          } else if (s.op === "admit" && queue.length > 0) {
            const [entry] = queue.splice(s.pick % queue.length, 1);
            const result = entry!.admit(s.payments);
            assert.equal(result.ok, expectedInflight + s.payments <= maxInflightPayments);
            if (result.ok) {
              held.push({ admitted: result, payments: s.payments });
              expectedInflight += s.payments;
            }
          } else if (s.op === "leave" && queue.length > 0) {
            queue.splice(s.pick % queue.length, 1)[0]!.leave();
          } else if (s.op === "release" && held.length > 0) {
            const [entry] = held.splice(s.pick % held.length, 1);
            entry!.admitted.release();
            expectedInflight -= entry!.payments;
          }
          const state = admission.state();
          assert.equal(state.inflightPayments, expectedInflight);
          assert.equal(state.queuedRequests, queue.length);
          assert.ok(state.inflightPayments <= maxInflightPayments);
          assert.ok(state.queuedRequests <= maxQueuedRequests);
        }
        for (const entry of queue) entry.leave();
        for (const entry of held) entry.admitted.release();
        assert.deepEqual(admission.state(), {
          maxInflightPayments,
          maxQueuedRequests,
          inflightPayments: 0,
          queuedRequests: 0,
        });
      },
    ),
  );
});
