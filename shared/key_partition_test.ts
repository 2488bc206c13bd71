import assert from "node:assert/strict";
import { Partitioners } from "kafkajs";
import { partitionForKey } from "./key_partition.ts";

Deno.test("a key's partition is the one kafkajs' default partitioner picks", () => {
  const partitioner = Partitioners.DefaultPartitioner();
  for (const partitions of [1, 6, 12]) {
    const partitionMetadata = Array.from(
      { length: partitions },
      (_, partitionId) => ({
        partitionId,
        leader: 0,
        replicas: [0],
        isr: [0],
        partitionErrorCode: 0,
        offlineReplicas: [],
      }),
    );
    for (const key of ["CUST-001", "TEST-001", "é-ü-中", "", "x".repeat(200)]) {
      const expected = partitioner({ topic: "t", partitionMetadata, message: { key, value: "" } });
      assert.equal(partitionForKey(key, partitions), expected, `${key} among ${partitions}`);
    }
  }
});

Deno.test("the Java client's murmur2 test vectors give the Java client's partitions", () => {
  // Kafka's UtilsTest.testMurmur2: key -> Utils.murmur2(key); the Java client's
  // partition is toPositive(hash) % partitions.
  const vectors: [string, number][] = [
    ["21", -973932308],
    ["foobar", -790332482],
    ["a-little-bit-long-string", -985981536],
    ["a-little-bit-longer-string", -1486304829],
    ["lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971],
    ["abc", 479470107],
  ];
  for (const [key, hash] of vectors) {
    for (const partitions of [6, 12, 1000]) {
      assert.equal(partitionForKey(key, partitions), (hash & 0x7fffffff) % partitions, key);
    }
  }
});

Deno.test("a partition count below one is refused", () => {
  assert.throws(() => partitionForKey("k", 0), RangeError);
});
