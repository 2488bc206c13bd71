/**
 * The local 3-node cluster: a three-voter KRaft quorum, replication factor 3 and
 * min ISR 2, and a node killed with SIGKILL and started again.
 */
import assert from "node:assert/strict";
import { Kafka, logLevel } from "kafkajs";
import { startKafkaCluster } from "./cluster.ts";
import { recordsHeld } from "@payments/testing/topics";
import { withTimeout } from "@payments/testing/wait";
import { muteKafkajsTimeoutWarning } from "@payments/shared/kafkajs_quiet";

// kafkajs warns of a negative timer on every connection under Deno.
muteKafkajsTimeoutWarning();

const topic = "replicated";

Deno.test("a 3-node cluster replicates 3 ways, survives a kill -9 of a leader with acks=-1 writes, and takes the node back", async (t) => {
  let dataDir = "";
  await withTimeout(
    (async () => {
      await using cluster = await startKafkaCluster({
        nodes: 3,
        topics: [{ topic, numPartitions: 6 }],
      });
      dataDir = cluster.dataDir;
      const kafka = new Kafka({
        clientId: "cluster-test",
        brokers: cluster.brokers,
        logLevel: logLevel.NOTHING,
        // After a kill -9 the controller moves leadership only once the dead broker's
        // session expires; on a loaded machine that outlasts kafkajs' default ~9 s of
        // retries, so the client is given up to about 30 s to ride the failover out.
        retry: { retries: 12, initialRetryTime: 200, maxRetryTime: 3000 },
      });
      const admin = kafka.admin();
      await admin.connect();
      const producer = kafka.producer({ idempotent: true });
      await producer.connect();
      try {
        await t.step("three brokers, every partition on all three, min ISR 2", async () => {
          const described = await admin.describeCluster();
          assert.deepEqual(described.brokers.map((b) => b.nodeId).sort(), [1, 2, 3]);
          const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
          for (const p of topics[0]!.partitions) {
            assert.deepEqual([...p.replicas].sort(), [1, 2, 3], `replicas of ${p.partitionId}`);
            assert.equal(p.isr.length, 3, `ISR of ${p.partitionId}`);
          }
          const { resources } = await admin.describeConfigs({
            includeSynonyms: false,
            resources: [{ type: 2, name: topic, configNames: ["min.insync.replicas"] }],
          });
          assert.equal(resources[0]!.configEntries[0]!.configValue, "2");
        });

        const send = (i: number) =>
          producer.send({
            topic,
            acks: -1,
            messages: [{ key: `k${i}`, value: `v${i}` }],
          });
        for (let i = 0; i < 20; i++) await send(i);

        const leaders = await cluster.leaders(topic);
        const victim = mostLeader(leaders);
        await t.step(
          `kill -9 node ${victim} (leads most partitions): acks=-1 writes go on`,
          async () => {
            await cluster.killNode(victim);
            assert.equal(cluster.isRunning(victim), false);
            for (let i = 20; i < 40; i++) await send(i);
            const after = await cluster.leaders(topic);
            assert.ok(![...after.values()].includes(victim), "the dead node still leads");
          },
        );

        await t.step("every acknowledged record is readable from the two survivors", async () => {
          assert.equal(await recordsHeld(admin, topic), 40);
        });

        await t.step(`node ${victim} restarts on its data and rejoins every ISR`, async () => {
          await cluster.startNode(victim);
          const deadline = Date.now() + 30_000;
          for (;;) {
            const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
            if (topics[0]!.partitions.every((p) => p.isr.length === 3)) break;
            assert.ok(Date.now() < deadline, "ISR did not grow back to 3 within 30 s");
            await new Promise((r) => setTimeout(r, 500));
          }
          await send(40);
        });
      } finally {
        await producer.disconnect();
        await admin.disconnect();
      }
    })(),
    180_000,
    "3-node cluster scenario",
  );
  await assert.rejects(Deno.stat(dataDir), Deno.errors.NotFound, "stop() keeps the temp dir");
});

function mostLeader(leaders: Map<number, number>): number {
  const counts = new Map<number, number>();
  for (const id of leaders.values()) counts.set(id, (counts.get(id) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1])[0]![0];
}
