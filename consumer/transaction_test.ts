/**
 * A transaction whose send kafkajs acknowledged with a partition missing or listed
 * twice (its per-broker retry bookkeeping across a leader change) is aborted, never
 * committed. The fake producer answers the way kafkajs 2.2.4 does after such a retry;
 * the leader-loss chaos test meets the real thing.
 */
import assert from "node:assert/strict";
import type { Producer, RecordMetadata } from "kafkajs";
import type { OutputRecord } from "./results.ts";
import {
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

/** A producer whose one send is acknowledged with `answer`; records what it was asked. */
function fakeProducer(answer: RecordMetadata[]) {
  const calls: string[] = [];
  let active = true;
  const transaction = {
    sendBatch: () => {
      calls.push("sendBatch");
      return Promise.resolve(answer);
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
  return { producer, calls };
}

const outputs = [
  output("payment_results", 4, "LEAD-201"),
  output("payment_results", 4, "LEAD-226"),
  output("payment_decisions", 4, "LEAD-201"),
  output("payment_decisions", 4, "#progress"),
];

const write = {
  outputs,
  groupId: "g",
  input: { topic: "payment_requests", partition: 4, nextOffset: 41 },
  changelog: { topic: "payment_decisions", partition: 4 },
};

Deno.test("a send acknowledged once per partition commits and reports the changelog end", async () => {
  const { producer, calls } = fakeProducer([
    ack("payment_results", 4, 43),
    ack("payment_decisions", 4, 48),
  ]);
  const committed = await commitTransaction(producer, write);
  assert.deepEqual(calls, ["sendBatch", "sendOffsets", "commit"]);
  // Two changelog records at 48 and 49, the commit marker at 50.
  assert.equal(committed.changelogEnd, 51);
});

Deno.test("a partition acknowledged twice (written twice by kafkajs' retry) aborts the transaction", async () => {
  const { producer, calls } = fakeProducer([
    ack("payment_results", 4, 43),
    ack("payment_decisions", 4, 48),
    ack("payment_results", 4, 46),
  ]);
  const error = await commitTransaction(producer, write).then(
    () => assert.fail("the transaction committed"),
    (e: unknown) => e,
  );
  assert.ok(error instanceof TransactionError);
  assert.ok(error.cause instanceof UnacknowledgedSendError);
  assert.match(error.message, /payment_results-4 acknowledged 2 times/);
  assert.deepEqual(calls, ["sendBatch", "abort"]);
});

Deno.test("a partition missing from the acknowledgements (never sent by kafkajs' retry) aborts the transaction", async () => {
  const { producer, calls } = fakeProducer([ack("payment_results", 4, 43)]);
  const error = await commitTransaction(producer, write).then(
    () => assert.fail("the transaction committed"),
    (e: unknown) => e,
  );
  assert.ok(error instanceof TransactionError);
  assert.match(error.message, /payment_decisions-4 acknowledged 0 times/);
  assert.deepEqual(calls, ["sendBatch", "abort"]);
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
