import assert from "node:assert/strict";
import { readCommitted } from "@payments/testing/kcat";
import { testKafka } from "@payments/testing/test_kafka";
import { type FetchedRecord, readCommittedFixed, withoutAborted } from "./read_committed.ts";

const ABORT = new Uint8Array([0, 0, 0, 0]);
const COMMIT = new Uint8Array([0, 0, 0, 1]);
const record = (offset: number, producerId: string, inTransaction = true): FetchedRecord => ({
  offset: String(offset),
  key: new TextEncoder().encode(`k${offset}`),
  batchContext: { producerId, inTransaction },
});
const marker = (offset: number, producerId: string, key: Uint8Array): FetchedRecord => ({
  offset: String(offset),
  key,
  isControlRecord: true,
  batchContext: { producerId, inTransaction: true },
});

Deno.test("aborted transactions listed in the order they ended are all dropped, and a producer's later commit is kept", () => {
  // A began first and ended last; the broker lists B (ended first) before A.
  const messages = [
    record(0, "A"),
    record(1, "A"),
    record(2, "B"),
    record(3, "B"),
    marker(4, "B", ABORT),
    marker(5, "A", ABORT),
    record(6, "A"),
    marker(7, "A", COMMIT),
    record(8, "C", false),
  ];
  const kept = withoutAborted({
    messages,
    abortedTransactions: [{ producerId: "B", firstOffset: "2" }, {
      producerId: "A",
      firstOffset: "0",
    }],
  });
  assert.deepEqual(kept.map((r) => r.offset), ["4", "5", "6", "7", "8"]);
});

Deno.test("a fetch starting inside several aborted transactions drops the first record of each", () => {
  const kept = withoutAborted({
    messages: [record(15, "B"), record(16, "A"), marker(17, "A", ABORT), marker(18, "B", ABORT)],
    abortedTransactions: [{ producerId: "A", firstOffset: "10" }, {
      producerId: "B",
      firstOffset: "12",
    }],
  });
  assert.deepEqual(kept.map((r) => r.offset), ["17", "18"]);
});

Deno.test("kafkajs' consumer reads interleaved aborted transactions as Kafka's own read_committed client (kcat) does", async () => {
  assert.ok(readCommittedFixed(), "kafkajs uses the fixed filter");
  await using t = await testKafka("read-committed", 1);
  const topic = t.topics.results;
  const producer = async (name: string) => {
    const p = t.kafka.producer({
      transactionalId: `${name}-${crypto.randomUUID()}`,
      idempotent: true,
      maxInFlightRequests: 1,
    });
    await p.connect();
    return p;
  };
  const [a, b] = [await producer("A"), await producer("B")];
  try {
    // A's transaction begins first and is aborted last: the broker lists B's first.
    const ta = await a.transaction();
    await ta.send({ topic, messages: [{ value: "a1-aborted" }, { value: "a2-aborted" }] });
    const tb = await b.transaction();
    await tb.send({ topic, messages: [{ value: "b1-aborted" }, { value: "b2-aborted" }] });
    await tb.abort();
    await ta.abort();
    for (const [p, value] of [[a, "a3-committed"], [b, "b3-committed"]] as const) {
      const tx = await p.transaction();
      await tx.send({ topic, messages: [{ value }] });
      await tx.commit();
    }
  } finally {
    await a.disconnect();
    await b.disconnect();
  }
  const seen: string[] = [];
  const consumer = t.kafka.consumer({ groupId: `reader-${crypto.randomUUID()}` });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      eachMessage: ({ message }) => {
        seen.push(String(message.value));
        return Promise.resolve();
      },
    });
    const deadline = Date.now() + 15_000;
    while (seen.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    await new Promise((r) => setTimeout(r, 500));
  } finally {
    await consumer.disconnect();
  }
  const kcat = (await readCommitted(t.brokers.join(","), topic)).map((r) => r.payload);
  assert.deepEqual(kcat, ["a3-committed", "b3-committed"], "Kafka's own answer");
  assert.deepEqual(seen, kcat);
});
