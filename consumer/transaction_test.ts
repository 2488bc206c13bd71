/**
 * How a transaction sends: one leader broker per send (one partition per send while
 * the leaders are not known), one send at a time (so kafkajs' per-broker retry never
 * re-sends a partition whose first request is still in flight), and a send whose
 * acknowledgements miss a partition or list it twice aborts the transaction instead
 * of committing. The fake producer answers as kafkajs 2.2.4 does;
 * the leader-loss chaos test meets the real thing.
 */
import assert from "node:assert/strict";
import type { Producer, ProducerBatch, RecordMetadata } from "kafkajs";
import type { OutputRecord } from "./results.ts";
import { LeaderMovedError } from "./partition_leaders.ts";
import {
  bySend,
  checkAcknowledged,
  commitTransaction,
  TransactionError,
  UnacknowledgedSendError,
} from "./transaction.ts";

const output = (topic: string, partition: number, key: string): OutputRecord => ({
  topic,
  partition,
  key,
  value: "{}",
  headers: {},
});

const ack = (topicName: string, partition: number, baseOffset: number): RecordMetadata => ({
  topicName,
  partition,
  errorCode: 0,
  baseOffset: String(baseOffset),
});

type Answer = (topic: string, partition: number, base: number) => RecordMetadata[];
const honest: Answer = (topic, partition, base) => [ack(topic, partition, base)];

/**
 * A producer that appends each send to per-partition logs starting at `firstOffset`
 * and acknowledges it with `answer`; records the calls, the sends and their overlap.
 */
function fakeProducer(answer: Answer = honest, firstOffset = 40) {
  const calls: string[] = [];
  const sends: { topic: string; partitions: number[]; messages: number }[] = [];
  const ends = new Map<string, number>();
  let active = true;
  let inFlight = 0;
  let maxInFlight = 0;
  const transaction = {
    sendBatch: async ({ topicMessages = [] }: ProducerBatch) => {
      calls.push("sendBatch");
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((resolve) => setTimeout(resolve, 1));
      inFlight--;
      const answers: RecordMetadata[] = [];
      for (const { topic, messages } of topicMessages) {
        const partitions = [...new Set(messages.map((m) => m.partition!))];
        sends.push({ topic, partitions, messages: messages.length });
        for (const partition of partitions) {
          const key = `${topic}-${partition}`;
          const base = ends.get(key) ?? firstOffset;
          ends.set(key, base + messages.filter((m) => m.partition === partition).length);
          answers.push(...answer(topic, partition, base));
        }
      }
      return answers;
    },
    sendOffsets: () => {
      calls.push("sendOffsets");
      return Promise.resolve();
    },
    commit: () => {
      calls.push("commit");
      active = false;
      return Promise.resolve();
    },
    abort: () => {
      calls.push("abort");
      active = false;
      return Promise.resolve();
    },
    isActive: () => active,
  };
  const producer = { transaction: () => Promise.resolve(transaction) } as unknown as Producer;
  return { producer, calls, sends, maxInFlight: () => maxInFlight };
}

const outputs = [
  output("payment_results", 4, "LEAD-201"),
  output("payment_decisions", 4, "LEAD-201"),
  output("payment_results", 4, "LEAD-226"),
  output("payment_requests.dlq", 4, "bad"),
  output("payment_decisions", 4, "#progress"),
];

const write = {
  outputs,
  groupId: "g",
  input: { topic: "payment_requests", partition: 4, nextOffset: 41 },
  changelog: { topic: "payment_decisions", partition: 4 },
};

Deno.test("without known leaders outputs are grouped per partition, in order, nothing lost", () => {
  const groups = bySend(outputs);
  assert.deepEqual(groups.map((g) => g.map((r) => r.key)), [
    ["LEAD-201", "LEAD-226"],
    ["LEAD-201", "#progress"],
    ["bad"],
  ]);
  assert.equal(groups.flat().length, outputs.length);
});

Deno.test("partitions with known leaders are grouped per leader, those without on their own", () => {
  const spread = [
    output("r", 0, "a"),
    output("r", 1, "b"),
    output("c", 0, "c"),
    output("r", 2, "d"),
    output("r", 0, "e"),
  ];
  // Partitions 0 of both topics on broker 1, r-1 on broker 2, r-2 not known yet.
  const leaderOf = (topic: string, partition: number) =>
    partition === 0 ? 1 : topic === "r" && partition === 1 ? 2 : undefined;
  assert.deepEqual(
    bySend(spread, leaderOf).map((g) => g.map((r) => `${r.topic}${r.partition}${r.key}`)),
    [
      ["r0a", "c0c", "r0e"],
      ["r1b"],
      ["r2d"],
    ],
  );
});

Deno.test("each send writes one partition, one send at a time, then the offsets and the commit", async () => {
  const fake = fakeProducer();
  const committed = await commitTransaction(fake.producer, write);
  assert.deepEqual(fake.sends, [
    { topic: "payment_results", partitions: [4], messages: 2 },
    { topic: "payment_decisions", partitions: [4], messages: 2 },
    { topic: "payment_requests.dlq", partitions: [4], messages: 1 },
  ]);
  assert.equal(fake.maxInFlight(), 1);
  assert.deepEqual(fake.calls, ["sendBatch", "sendBatch", "sendBatch", "sendOffsets", "commit"]);
  // Two changelog records at 40 and 41, the commit marker at 42.
  assert.equal(committed.changelogEnd, 43);
});

Deno.test("with one leader for every partition a transaction is one send, guarded as a send of several partitions", async () => {
  const fake = fakeProducer();
  const guarded: boolean[] = [];
  const leaders = {
    leaderOf: () => 1,
    send: <T>(together: boolean, run: () => Promise<T>) => {
      guarded.push(together);
      return run();
    },
  };
  const committed = await commitTransaction(fake.producer, { ...write, leaders });
  assert.deepEqual(fake.calls, ["sendBatch", "sendOffsets", "commit"]);
  assert.deepEqual(fake.sends, [
    { topic: "payment_results", partitions: [4], messages: 2 },
    { topic: "payment_decisions", partitions: [4], messages: 2 },
    { topic: "payment_requests.dlq", partitions: [4], messages: 1 },
  ]);
  assert.deepEqual(guarded, [true]);
  // The changelog's own acknowledgement in a send of three partitions: 40, 41, marker 42.
  assert.equal(committed.changelogEnd, 43);
});

Deno.test("a leader that moved while a grouped send was routed aborts the transaction", async () => {
  const fake = fakeProducer();
  const leaders = {
    leaderOf: () => 1,
    send: () => Promise.reject(new LeaderMovedError("payment_results-4 moved")),
  };
  const error = await commitTransaction(fake.producer, { ...write, leaders }).then(
    () => assert.fail("the transaction committed"),
    (e: unknown) => e,
  );
  assert.ok(error instanceof TransactionError);
  assert.ok(error.cause instanceof LeaderMovedError);
  assert.deepEqual(fake.calls, ["abort"]);
});

Deno.test("a partition acknowledged twice aborts the transaction", async () => {
  const twice: Answer = (topic, partition, base) =>
    topic === "payment_results" ? [ack(topic, partition, base), ack(topic, partition, base + 2)] : [
      ack(topic, partition, base),
    ];
  const fake = fakeProducer(twice);
  const error = await commitTransaction(fake.producer, write).then(
    () => assert.fail("the transaction committed"),
    (e: unknown) => e,
  );
  assert.ok(error instanceof TransactionError);
  assert.ok(error.cause instanceof UnacknowledgedSendError);
  assert.match(error.message, /payment_results-4 acknowledged 2 times/);
  assert.deepEqual(fake.calls, ["sendBatch", "abort"]);
});

Deno.test("a partition missing from the acknowledgements aborts the transaction", async () => {
  const dropsChangelog: Answer = (topic, partition, base) =>
    topic === "payment_decisions" ? [] : [ack(topic, partition, base)];
  const fake = fakeProducer(dropsChangelog);
  const error = await commitTransaction(fake.producer, write).then(
    () => assert.fail("the transaction committed"),
    (e: unknown) => e,
  );
  assert.ok(error instanceof TransactionError);
  assert.match(error.message, /payment_decisions-4 acknowledged 0 times/);
  assert.deepEqual(fake.calls, ["sendBatch", "sendBatch", "abort"]);
});

Deno.test("acknowledgements of partitions a send did not write do not satisfy the check", () => {
  assert.throws(
    () =>
      checkAcknowledged([output("t", 0, "a"), output("t", 1, "b")], [
        ack("t", 0, 0),
        ack("t", 2, 0),
      ]),
    /t-1 acknowledged 0 times/,
  );
  checkAcknowledged([output("t", 0, "a"), output("t", 0, "b")], [ack("t", 0, 7)]);
});
