import assert from "node:assert/strict";
import { type Clock, Gate, Pacer, summarizePacing } from "./scheduler.ts";

/** A clock that only moves when told to; sleeping moves it. */
function fakeClock(): Clock & { advance(ms: number): void; sleeps: number[] } {
  let now = 1000;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => now,
    sleep: (ms) => {
      sleeps.push(ms);
      now += ms;
      return Promise.resolve();
    },
    advance: (ms) => {
      now += ms;
    },
  };
}

Deno.test("at 100 requests/s the pacer spaces slots 10 ms apart from the first", async () => {
  const clock = fakeClock();
  const pacer = new Pacer(100, clock);
  const due: number[] = [];
  for (let i = 0; i < 5; i++) due.push((await pacer.next()).dueAt);
  assert.deepEqual(due, [1000, 1010, 1020, 1030, 1040]);
  assert.deepEqual(clock.sleeps, [10, 10, 10, 10]);
});

Deno.test("open model: a slow sender is not slowed further, overdue slots come at once", async () => {
  const clock = fakeClock();
  const pacer = new Pacer(100, clock);
  await pacer.next();
  clock.advance(55); // the generator stalled for 55 ms
  const overdue = [];
  for (let i = 0; i < 5; i++) overdue.push(await pacer.next());
  // Slots 1..5 were due at +10..+50: all overdue, none waited for.
  assert.deepEqual(clock.sleeps, []);
  assert.deepEqual(overdue.map((s) => clock.now() - s.dueAt), [45, 35, 25, 15, 5]);
  await pacer.next(); // slot 6 is due at +60, 5 ms ahead
  assert.deepEqual(clock.sleeps, [5]);
});

Deno.test("the schedule does not drift: due times depend only on the index", async () => {
  const clock = fakeClock();
  const pacer = new Pacer(3, clock);
  let last = 0;
  for (let i = 0; i < 301; i++) last = (await pacer.next()).dueAt;
  assert.ok(Math.abs(last - (1000 + 100_000)) < 1e-6);
});

Deno.test("sleeps under a millisecond are skipped; the debt is slept once it reaches 1 ms", async () => {
  const clock = fakeClock();
  const pacer = new Pacer(5000, clock); // one slot every 0.2 ms
  for (let i = 0; i < 5; i++) await pacer.next();
  assert.deepEqual(clock.sleeps, []);
  await pacer.next(); // slot 5 is due 1 ms after the first
  assert.equal(clock.sleeps.length, 1);
  assert.ok(Math.abs(clock.sleeps[0]! - 1) < 1e-9);
});

Deno.test("closed model: every slot is due immediately", async () => {
  const clock = fakeClock();
  const pacer = new Pacer(undefined, clock);
  const a = await pacer.next();
  clock.advance(7);
  const b = await pacer.next();
  assert.equal(b.dueAt - a.dueAt, 7);
  assert.equal(pacer.offsetOf(100), 0);
  assert.deepEqual(clock.sleeps, []);
});

Deno.test("the gate admits its size, then one waiter per release in order", async () => {
  const gate = new Gate(2);
  await gate.acquire();
  await gate.acquire();
  assert.equal(gate.inFlight, 2);
  const order: number[] = [];
  const w1 = gate.acquire().then(() => order.push(1));
  const w2 = gate.acquire().then(() => order.push(2));
  gate.release();
  await w1;
  assert.deepEqual(order, [1]);
  gate.release();
  await w2;
  assert.deepEqual(order, [1, 2]);
  gate.release();
  gate.release();
  assert.equal(gate.inFlight, 0);
});

Deno.test("pacing is kept when 95% of the offered rate went out on time", () => {
  const kept = summarizePacing({
    offeredRate: 1000,
    sentPayments: 10_000,
    sendingMs: 10_100,
    requests: 10_000,
    lateRequests: 50,
    maxLateMs: 20,
  });
  assert.equal(kept.kept, true);
  assert.ok(Math.abs(kept.sentRate - 990.1) < 0.1);
});

Deno.test("pacing is not kept when the rate fell short or many requests started late", () => {
  const slow = summarizePacing({
    offeredRate: 1000,
    sentPayments: 10_000,
    sendingMs: 12_000,
    requests: 10_000,
    lateRequests: 0,
    maxLateMs: 0,
  });
  assert.equal(slow.kept, false);
  const late = summarizePacing({
    offeredRate: 1000,
    sentPayments: 10_000,
    sendingMs: 10_000,
    requests: 10_000,
    lateRequests: 500,
    maxLateMs: 300,
  });
  assert.equal(late.kept, false);
  const closed = summarizePacing({
    sentPayments: 10,
    sendingMs: 1000,
    requests: 10,
    lateRequests: 0,
    maxLateMs: 0,
  });
  assert.equal(closed.kept, true);
  assert.equal(closed.offeredRate, undefined);
});
