/**
 * Proves that kafkajs 2.2.4, written against Kafka 2.x/3.x, works against the broker this
 * project runs (Kafka 4.x removed many old protocol versions, KIP-896).
 */
import assert from "node:assert/strict";
import { type EachMessagePayload, Kafka, logLevel } from "kafkajs";
import { startThrowawayBroker } from "@payments/testing/brokers";
import { withTimeout } from "@payments/testing/wait";
import { muteKafkajsTimeoutWarning } from "@payments/shared/kafkajs_quiet";

// kafkajs warns of a negative timer on every connection under Deno.
muteKafkajsTimeoutWarning();

const topic = "compat";

Deno.test("kafkajs 2.2.4 produces idempotently, consumes in a group and commits transactions against this broker", async (t) => {
  await withTimeout(
    (async () => {
      await using broker = await startThrowawayBroker({
        topics: [{ topic, numPartitions: 3 }, { topic: "compat_out", numPartitions: 3 }],
      });
      const kafka = new Kafka({
        clientId: "compat-test",
        brokers: [broker.bootstrap],
        logLevel: logLevel.NOTHING,
      });

      await t.step("an idempotent producer with acks -1 gets offsets back", async () => {
        const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 5 });
        await producer.connect();
        try {
          const meta = await producer.send({
            topic,
            acks: -1,
            messages: [1, 2, 3].map((i) => ({ key: `k${i}`, value: `v${i}`, partition: 0 })),
          });
          assert.equal(meta.length, 1);
          assert.equal(meta[0]!.errorCode, 0);
          assert.equal(meta[0]!.baseOffset, "0");
        } finally {
          await producer.disconnect();
        }
      });

      await t.step("a consumer group reads them and commits its offsets", async () => {
        const groupId = "compat-group";
        const consumer = kafka.consumer({ groupId, sessionTimeout: 6000, heartbeatInterval: 500 });
        await consumer.connect();
        try {
          await consumer.subscribe({ topic, fromBeginning: true });
          const seen: string[] = [];
          const { promise: gotAll, resolve } = Promise.withResolvers<void>();
          await consumer.run({
            eachMessage: ({ message }: EachMessagePayload) => {
              seen.push(message.value!.toString());
              if (seen.length === 3) resolve();
              return Promise.resolve();
            },
          });
          await withTimeout(gotAll, 30_000, "consuming three records in a group");
          assert.deepEqual(seen, ["v1", "v2", "v3"]);
          await consumer.commitOffsets([{ topic, partition: 0, offset: "3" }]);
        } finally {
          await consumer.disconnect();
        }
        const admin = kafka.admin();
        await admin.connect();
        try {
          const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
          const p0 = offsets!.partitions.find((p) => p.partition === 0);
          assert.equal(p0?.offset, "3");
        } finally {
          await admin.disconnect();
        }
      });

      await t.step(
        "a transactional producer commits records and group offsets together",
        async () => {
          const groupId = "compat-txn-group";
          const producer = kafka.producer({
            transactionalId: "compat-txn",
            idempotent: true,
            maxInFlightRequests: 1,
          });
          await producer.connect();
          try {
            const committed = await producer.transaction();
            await committed.send({
              topic: "compat_out",
              acks: -1,
              messages: [{ key: "k1", value: "committed", partition: 1 }],
            });
            await committed.sendOffsets({
              consumerGroupId: groupId,
              topics: [{ topic, partitions: [{ partition: 0, offset: "2" }] }],
            });
            await committed.commit();

            const aborted = await producer.transaction();
            await aborted.send({
              topic: "compat_out",
              acks: -1,
              messages: [{ key: "k2", value: "aborted", partition: 1 }],
            });
            await aborted.abort();
          } finally {
            await producer.disconnect();
          }

          const admin = kafka.admin();
          await admin.connect();
          try {
            const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
            assert.equal(offsets!.partitions.find((p) => p.partition === 0)?.offset, "2");
          } finally {
            await admin.disconnect();
          }

          // read_committed (kafkajs's default) must see the committed record only.
          const reader = kafka.consumer({ groupId: "compat-reader", sessionTimeout: 6000 });
          await reader.connect();
          try {
            await reader.subscribe({ topic: "compat_out", fromBeginning: true });
            const values: string[] = [];
            const { promise: gotOne, resolve } = Promise.withResolvers<void>();
            await reader.run({
              eachMessage: ({ message }: EachMessagePayload) => {
                values.push(message.value!.toString());
                resolve();
                return Promise.resolve();
              },
            });
            await withTimeout(gotOne, 30_000, "reading the committed record");
            // Give an aborted record, wrongly delivered, time to show up.
            await new Promise((r) => setTimeout(r, 1000));
            assert.deepEqual(values, ["committed"]);
          } finally {
            await reader.disconnect();
          }
        },
      );
    })(),
    150_000,
    "kafkajs compatibility scenario",
  );
});
