/**
 * A worker transaction against a real broker sends one Produce request per leader
 * broker once its producer knows the leaders: the first transaction learns them (a
 * send per partition), the next writes the same six partitions in one request. What
 * it wrote is read back by kcat, which shares no code with ours: every record once, in
 * order, committed, and the changelog end the transaction reports is the offset past
 * its commit marker.
 */
import assert from "node:assert/strict";
import type { Producer } from "kafkajs";
import { readCommitted } from "@payments/testing/kcat";
import { testClient } from "@payments/testing/kafka";
import { testKafka } from "@payments/testing/test_kafka";
import { PartitionLeaders } from "./partition_leaders.ts";
import type { OutputRecord } from "./results.ts";
import { commitTransaction } from "./transaction.ts";

const record = (topic: string, partition: number, key: string): OutputRecord => ({
  topic,
  partition,
  key,
  value: JSON.stringify({ key }),
  headers: {},
});

/** Counts the Produce requests `producer` sends (kafkajs' request instrumentation). */
function countProduceRequests(producer: Producer) {
  let produced = 0;
  producer.on(producer.events.REQUEST, ({ payload }) => {
    if (payload.apiName === "Produce") produced++;
  });
  return () => produced;
}

Deno.test("a transaction sends one request per leader once its producer knows the leaders, and kcat reads each record once", async () => {
  await using t = await testKafka("txleaders", 3);
  const leaders = new PartitionLeaders();
  const producer = testClient(t.brokers).producer({
    transactionalId: `${t.topics.requests}.tx`,
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: leaders.partitioner,
  });
  const produced = countProduceRequests(producer);
  await producer.connect();
  try {
    const write = (round: number) => ({
      // Results on every partition, and two changelog records on partition 1.
      outputs: [
        ...[0, 1, 2].map((p) => record(t.topics.results, p, `r${round}-${p}`)),
        record(t.topics.decisions, 1, `d${round}-a`),
        record(t.topics.decisions, 1, `d${round}-b`),
        record(t.topics.dlq, 2, `x${round}`),
      ],
      groupId: t.groupId,
      input: { topic: t.topics.requests, partition: 1, nextOffset: round },
      changelog: { topic: t.topics.decisions, partition: 1 },
      leaders,
    });
    const first = await commitTransaction(producer, write(1));
    assert.equal(produced(), 5, "leaders unknown: one send per partition");
    for (const p of [0, 1, 2]) assert.notEqual(leaders.leaderOf(t.topics.results, p), undefined);

    const second = await commitTransaction(producer, write(2));
    assert.equal(produced(), 6, "one broker leads all five partitions: one request");
    // Each transaction: two changelog records and the commit marker.
    assert.equal(first.changelogEnd, 3);
    assert.equal(second.changelogEnd, 6);
  } finally {
    await producer.disconnect();
  }

  const bootstrap = t.brokers[0]!;
  const results = await readCommitted(bootstrap, t.topics.results);
  assert.deepEqual(
    results.map((r) => `${r.partition}:${r.key}`).sort(),
    ["0:r1-0", "0:r2-0", "1:r1-1", "1:r2-1", "2:r1-2", "2:r2-2"],
  );
  const changelog = await readCommitted(bootstrap, t.topics.decisions);
  assert.deepEqual(changelog.map((r) => [r.partition, r.offset, r.key]), [
    [1, 0, "d1-a"],
    [1, 1, "d1-b"],
    [1, 3, "d2-a"],
    [1, 4, "d2-b"],
  ]);
  assert.deepEqual((await readCommitted(bootstrap, t.topics.dlq)).map((r) => r.key), ["x1", "x2"]);
});
