import assert from "node:assert/strict";
import { type Context, createContextKey, ROOT_CONTEXT } from "@opentelemetry/api";
import { type OutgoingRecord, PublishError, type RecordPosition } from "./publisher.ts";
import { RequestCoalescer } from "./request_coalescer.ts";

/**
 * A fake producer: every send is held until the test acknowledges or fails it, and
 * it counts how many sends were ever under way at once.
 */
class FakeProducer {
  readonly sends: {
    records: readonly OutgoingRecord[];
    deadline: number;
    requests: readonly (Context | undefined)[];
    ack: () => void;
    fail: (error: unknown) => void;
  }[] = [];
  underWay = 0;
  mostUnderWay = 0;
  #offset = 0;

  send = (
    records: readonly OutgoingRecord[],
    deadline: number,
    requests: readonly (Context | undefined)[],
  ): Promise<RecordPosition[]> => {
    this.underWay++;
    this.mostUnderWay = Math.max(this.mostUnderWay, this.underWay);
    return new Promise((resolve, reject) => {
      const done = () => this.underWay--;
      this.sends.push({
        records,
        deadline,
        requests,
        ack: () => {
          done();
          resolve(records.map(() => ({ partition: 0, offset: this.#offset++ })));
        },
        fail: (error) => {
          done();
          reject(error);
        },
      });
    });
  };

  /** Waits until the coalescer has made `count` sends. */
  async sent(count: number): Promise<void> {
    for (let i = 0; i < 1000 && this.sends.length < count; i++) {
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
    assert.equal(this.sends.length, count, `expected ${count} sends`);
  }
}

const records = (name: string, count: number): OutgoingRecord[] =>
  Array.from({ length: count }, (_, i) => ({ key: `${name}-${i}`, value: "{}", headers: {} }));

function setUp(maxRecordsPerSend = 1000, now?: () => number) {
  const producer = new FakeProducer();
  const coalescer = new RequestCoalescer({
    send: producer.send,
    topic: "payments",
    maxRecordsPerSend,
    ...(now ? { now } : {}),
  });
  return { producer, coalescer };
}

const LONG = 3_600_000;

Deno.test("requests that arrive while a send is under way go out together in the next one, each answered with its own positions", async () => {
  const { producer, coalescer } = setUp();
  const first = coalescer.publish(records("a", 2), { timeoutMs: LONG });
  await producer.sent(1);
  const later = ["b", "c", "d"].map((name, i) =>
    coalescer.publish(records(name, i + 1), { timeoutMs: LONG })
  );
  producer.sends[0]!.ack();
  assert.deepEqual(await first, [{ partition: 0, offset: 0 }, { partition: 0, offset: 1 }]);
  await producer.sent(2);
  assert.deepEqual(producer.sends[1]!.records.map((r) => r.key), [
    "b-0",
    "c-0",
    "c-1",
    "d-0",
    "d-1",
    "d-2",
  ]);
  producer.sends[1]!.ack();
  const answers = await Promise.all(later);
  assert.deepEqual(answers.map((positions) => positions.map((p) => p.offset)), [
    [2],
    [3, 4],
    [5, 6, 7],
  ]);
  assert.equal(producer.mostUnderWay, 1, "never two sends at once");
});

Deno.test("a send carries at most maxRecordsPerSend records, never splits a request, and the rest follows", async () => {
  const { producer, coalescer } = setUp(10);
  const blocker = coalescer.publish(records("x", 1), { timeoutMs: LONG });
  await producer.sent(1);
  const sizes = [4, 4, 4, 12];
  const waiting = sizes.map((n, i) => coalescer.publish(records(`r${i}`, n), { timeoutMs: LONG }));
  producer.sends[0]!.ack();
  await blocker;
  for (let i = 1; i <= 3; i++) {
    await producer.sent(i + 1);
    producer.sends[i]!.ack();
  }
  await Promise.all(waiting);
  assert.deepEqual(producer.sends.map((send) => send.records.length), [1, 8, 4, 12]);
  assert.equal(producer.mostUnderWay, 1);
});

Deno.test("a failed send fails every request it carried with its error, and the next send still goes", async () => {
  const { producer, coalescer } = setUp();
  const blocker = coalescer.publish(records("x", 1), { timeoutMs: LONG });
  await producer.sent(1);
  const group = [
    coalescer.publish(records("a", 1), { timeoutMs: LONG }),
    coalescer.publish(records("b", 1), { timeoutMs: LONG }),
  ].map((p) => p.then(() => "ok", (error) => error));
  const broken = new PublishError("Cannot publish to payments: broker down", { retriable: true });
  producer.sends[0]!.ack();
  await blocker;
  await producer.sent(2);
  producer.sends[1]!.fail(broken);
  assert.deepEqual(await Promise.all(group), [broken, broken]);
  const after = coalescer.publish(records("c", 1), { timeoutMs: LONG });
  await producer.sent(3);
  producer.sends[2]!.ack();
  assert.equal((await after).length, 1);
});

Deno.test("a request that times out while waiting is dropped unsent; one whose send is under way may have been written and settles when it ends", async () => {
  const { producer, coalescer } = setUp();
  const settled: string[] = [];
  const underWay = coalescer.publish(records("under-way", 1), {
    timeoutMs: 50,
    onSettled: () => settled.push("under-way"),
  }).then(() => undefined, (error) => error);
  await producer.sent(1);
  const waiting = await coalescer.publish(records("waiting", 1), {
    timeoutMs: 1,
    onSettled: () => settled.push("waiting"),
  }).then(() => undefined, (error) => error);
  assert.ok(waiting instanceof PublishError);
  assert.equal(waiting.mayHaveWritten, false);
  assert.equal(waiting.retriable, true);
  assert.match(waiting.message, /^Cannot publish 1 payments to payments: .* were not sent$/);
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.deepEqual(settled, ["waiting"], "the dropped request settles at once");

  const first = await underWay;
  assert.ok(first instanceof PublishError);
  assert.equal(first.mayHaveWritten, true);
  assert.match(first.message, /while their send was under way/);
  assert.deepEqual(settled, ["waiting"], "still held by its send");
  producer.sends[0]!.ack();
  await coalescer.drain();
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.deepEqual(settled, ["waiting", "under-way"]);
  assert.equal(producer.sends.length, 1, "the dropped request was never sent");
});

Deno.test("a request whose deadline passed before its turn is answered without a send", async () => {
  let clock = 1_000;
  const { producer, coalescer } = setUp(1000, () => clock);
  const blocker = coalescer.publish(records("x", 1), { timeoutMs: LONG });
  await producer.sent(1);
  const late = coalescer.publish(records("late", 1), { timeoutMs: 500 })
    .then(() => undefined, (error) => error);
  const onTime = coalescer.publish(records("on-time", 1), { timeoutMs: LONG });
  clock += 1000; // the clock passes the late one's deadline before the blocker is answered
  producer.sends[0]!.ack();
  await blocker;
  const error = await late;
  assert.ok(error instanceof PublishError);
  assert.equal(error.mayHaveWritten, false);
  assert.match(error.message, /timed out waiting for earlier sends; nothing was sent/);
  await producer.sent(2);
  assert.deepEqual(producer.sends[1]!.records.map((r) => r.key), ["on-time-0"]);
  producer.sends[1]!.ack();
  await onTime;
});

Deno.test("an exclusive task runs between sends, never beside one", async () => {
  const { producer, coalescer } = setUp();
  const steps: string[] = [];
  const sending = coalescer.publish(records("a", 1), { timeoutMs: LONG });
  await producer.sent(1);
  const connecting = coalescer.exclusive(() => {
    steps.push(`connect with ${producer.underWay} sends under way`);
    return Promise.resolve("connected");
  });
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.deepEqual(steps, [], "waits for the send");
  producer.sends[0]!.ack();
  await sending;
  assert.equal(await connecting, "connected");
  assert.deepEqual(steps, ["connect with 0 sends under way"]);
});

Deno.test("a send is told each request's trace context, in the order of its records", async () => {
  const { producer, coalescer } = setUp();
  const key = createContextKey("request");
  const traceOf = (name: string) => ROOT_CONTEXT.setValue(key, name);
  const blocker = coalescer.publish(records("x", 1), { timeoutMs: LONG, trace: traceOf("x") });
  await producer.sent(1);
  assert.deepEqual(producer.sends[0]!.requests.map((c) => c?.getValue(key)), ["x"]);
  const group = [
    coalescer.publish(records("a", 2), { timeoutMs: LONG, trace: traceOf("a") }),
    coalescer.publish(records("b", 1), { timeoutMs: LONG }),
    coalescer.publish(records("c", 1), { timeoutMs: LONG, trace: traceOf("c") }),
  ];
  producer.sends[0]!.ack();
  await blocker;
  await producer.sent(2);
  assert.deepEqual(producer.sends[1]!.requests.map((c) => c?.getValue(key)), ["a", undefined, "c"]);
  producer.sends[1]!.ack();
  await Promise.all(group);
});
