import assert from "node:assert/strict";
import fc from "fast-check";
import { Admission, type Admitted, type Entry } from "./admission.ts";

const limits = { maxInflightPayments: 500, maxQueuedBytes: 3000 };
const idle = { inflightPayments: 0, queuedBytes: 0, queuedRequests: 0 };

function entered(admission: Admission, bytes = 1000): Entry {
  const entry = admission.enter(bytes);
  assert.ok(entry.ok, `expected a place in the queue for ${bytes} bytes`);
  return entry;
}

function admitted(entry: Entry, payments: number): Admitted {
  const result = entry.admit(payments);
  assert.ok(result.ok, `expected ${payments} payments to be admitted`);
  return result;
}

Deno.test("Admission takes requests while both budgets have room and counts what they hold", () => {
  const admission = new Admission(limits);
  const first = entered(admission, 1200);
  assert.deepEqual(admission.state(), {
    ...limits,
    ...idle,
    queuedBytes: 1200,
    queuedRequests: 1,
  });
  admitted(first, 100);
  assert.deepEqual(admission.state(), { ...limits, ...idle, inflightPayments: 100 });
});

Deno.test("Admission sheds on arrival a body that does not fit the bytes being read", () => {
  const admission = new Admission(limits);
  const queue = [entered(admission, 1000), entered(admission, 1500)];
  assert.deepEqual(admission.enter(501), { ok: false, reason: "queue_full" });
  entered(admission, 500);
  assert.deepEqual(admission.enter(1), { ok: false, reason: "queue_full" });
  queue[0]!.leave();
  assert.ok(admission.enter(1000).ok, "a request leaving the queue makes room");
});

Deno.test("an empty queue takes any one body, however large", () => {
  const admission = new Admission(limits);
  const large = entered(admission, 1_000_000);
  assert.deepEqual(admission.enter(1), { ok: false, reason: "queue_full" });
  large.leave();
  entered(admission, 1);
});

Deno.test("Admission sheds on arrival when the in-flight budget is full, before any body is read", () => {
  const admission = new Admission(limits);
  admitted(entered(admission), 500);
  assert.deepEqual(admission.enter(10), { ok: false, reason: "inflight_full" });
  assert.equal(admission.state().queuedRequests, 0, "a shed request takes no place");
});

Deno.test("Admission sheds a request whose payments do not fit the room left, whole", () => {
  const admission = new Admission(limits);
  const held = admitted(entered(admission), 450);
  const late = entered(admission);
  assert.deepEqual(late.admit(100), { ok: false, reason: "inflight_full" });
  assert.deepEqual(admission.state(), { ...limits, ...idle, inflightPayments: 450 });
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
  assert.deepEqual(admission.state(), { ...limits, ...idle });
});

Deno.test("leave after admit does not free another request's queue place", () => {
  const admission = new Admission(limits);
  const entry = entered(admission, 1000);
  entered(admission, 700);
  admitted(entry, 1);
  entry.leave();
  assert.equal(admission.state().queuedRequests, 1);
  assert.equal(admission.state().queuedBytes, 700);
  assert.throws(() => entry.admit(1), /used twice/);
});

Deno.test("Admission refuses limits, sizes and payment counts that make no sense", () => {
  assert.throws(() => new Admission({ ...limits, maxQueuedBytes: 0 }), /maxQueuedBytes/);
  assert.throws(() => new Admission({ ...limits, maxInflightPayments: 1.5 }), /maxInflight/);
  const admission = new Admission(limits);
  assert.throws(() => admission.enter(-1), /non-negative/);
  assert.throws(() => entered(admission).admit(0), /at least one payment/);
});

Deno.test("under any interleaving the budgets are never exceeded and return to zero", () => {
  type Step =
    | { op: "enter"; bytes: number }
    | { op: "admit"; pick: number; payments: number }
    | { op: "leave"; pick: number }
    | { op: "release"; pick: number };
  const step: fc.Arbitrary<Step> = fc.oneof(
    fc.record({ op: fc.constant("enter" as const), bytes: fc.integer({ min: 0, max: 5000 }) }),
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
      fc.integer({ min: 1, max: 8000 }),
      fc.array(step, { maxLength: 200 }),
      (maxInflightPayments, maxQueuedBytes, steps) => {
        const admission = new Admission({ maxInflightPayments, maxQueuedBytes });
        const queue: Array<{ entry: Entry; bytes: number }> = [];
        const held: Array<{ admitted: Admitted; payments: number }> = [];
        let inflight = 0;
        const queuedBytes = () => queue.reduce((sum, q) => sum + q.bytes, 0);
        for (const s of steps) {
          if (s.op === "enter") {
            const entry = admission.enter(s.bytes);
            const full = (queue.length > 0 && queuedBytes() + s.bytes > maxQueuedBytes) ||
              inflight >= maxInflightPayments;
            assert.equal(entry.ok, !full);
            if (entry.ok) queue.push({ entry, bytes: s.bytes });
          } else if (s.op === "admit" && queue.length > 0) {
            const { entry } = queue.splice(s.pick % queue.length, 1)[0]!;
            const result = entry.admit(s.payments);
            assert.equal(result.ok, inflight + s.payments <= maxInflightPayments);
            if (result.ok) {
              held.push({ admitted: result, payments: s.payments });
              inflight += s.payments;
            }
          } else if (s.op === "leave" && queue.length > 0) {
            queue.splice(s.pick % queue.length, 1)[0]!.entry.leave();
          } else if (s.op === "release" && held.length > 0) {
            const [entry] = held.splice(s.pick % held.length, 1);
            entry!.admitted.release();
            inflight -= entry!.payments;
          }
          const state = admission.state();
          assert.equal(state.inflightPayments, inflight);
          assert.equal(state.queuedRequests, queue.length);
          assert.equal(state.queuedBytes, queuedBytes());
          assert.ok(state.inflightPayments <= maxInflightPayments);
          // Only a lone request may exceed the bytes budget.
          assert.ok(state.queuedBytes <= maxQueuedBytes || state.queuedRequests === 1);
        }
        for (const { entry } of queue) entry.leave();
        for (const entry of held) entry.admitted.release();
        assert.deepEqual(admission.state(), {
          maxInflightPayments,
          maxQueuedBytes,
          ...idle,
        });
      },
    ),
  );
});
