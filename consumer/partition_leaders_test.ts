/**
 * The partition leaders a producer learns from kafkajs' partitioner calls, and the
 * guard that keeps a send grouped by leader on one broker on every attempt.
 */
import assert from "node:assert/strict";
import type { PartitionMetadata } from "kafkajs";
import { LeaderMovedError, PartitionLeaders } from "./partition_leaders.ts";

const metadata = (leaders: number[]): PartitionMetadata[] =>
  leaders.map((leader, partitionId) => ({
    partitionErrorCode: 0,
    partitionId,
    leader,
    replicas: [leader],
    isr: [leader],
  }));

/** Routes one message the way kafkajs' groupMessagesPerPartition does. */
const route = (leaders: PartitionLeaders, topic: string, partition: number, view: number[]) =>
  leaders.partitioner()({
    topic,
    partitionMetadata: metadata(view),
    message: { value: "{}", partition },
  });

Deno.test("a partition's leader is learned from the first send there, per topic", async () => {
  const leaders = new PartitionLeaders();
  assert.equal(leaders.leaderOf("results", 2), undefined);
  const routed = await leaders.send(
    false,
    () => Promise.resolve(route(leaders, "results", 2, [1, 1, 3])),
  );
  assert.equal(routed, 2, "the record goes where it says");
  assert.equal(leaders.leaderOf("results", 2), 3);
  assert.equal(leaders.leaderOf("results", 1), undefined, "only partitions sent to are learned");
  assert.equal(leaders.leaderOf("forwards", 2), undefined);
});

Deno.test("a send of one partition follows its leader wherever it moves", async () => {
  const leaders = new PartitionLeaders();
  await leaders.send(false, () => Promise.resolve(route(leaders, "t", 0, [1])));
  // kafkajs' retry after NOT_LEADER sees the new leader: one partition is still one request.
  await leaders.send(false, () => Promise.resolve(route(leaders, "t", 0, [2])));
  assert.equal(leaders.leaderOf("t", 0), 2);
});

Deno.test("a send grouped by leader fails before any request when one of its partitions moved", async () => {
  const leaders = new PartitionLeaders();
  await leaders.send(false, () => Promise.resolve(route(leaders, "t", 0, [1, 1])));
  await leaders.send(false, () => Promise.resolve(route(leaders, "t", 1, [1, 1])));
  // Grouped together for broker 1; partition 1 moved to broker 2 before kafkajs routed it.
  await assert.rejects(
    leaders.send(true, () => {
      route(leaders, "t", 0, [1, 2]);
      route(leaders, "t", 1, [1, 2]);
      return Promise.resolve();
    }),
    LeaderMovedError,
  );
  assert.equal(leaders.leaderOf("t", 1), 2, "the next grouping uses the leader just seen");
  // The same partitions routed while their leaders hold: no error.
  await leaders.send(true, () => {
    route(leaders, "t", 0, [1, 1]);
    return Promise.resolve();
  });
});

Deno.test("a partition without a leader is forgotten, so it is sent on its own next time", async () => {
  const leaders = new PartitionLeaders();
  await leaders.send(false, () => Promise.resolve(route(leaders, "t", 0, [1])));
  await leaders.send(false, () => Promise.resolve(route(leaders, "t", 0, [-1])));
  assert.equal(leaders.leaderOf("t", 0), undefined);
});

Deno.test("a record naming no partition is refused", () => {
  const leaders = new PartitionLeaders();
  assert.throws(
    () =>
      leaders.partitioner()({
        topic: "t",
        partitionMetadata: metadata([1]),
        message: { value: "x" },
      }),
    /names no partition/,
  );
});
