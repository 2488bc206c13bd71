/**
 * The codecs against the real broker and two clients that share no code with ours:
 * kcat (librdkafka, what confluent-kafka wraps) and the broker itself (Java), which
 * recompresses batches when a topic sets `compression.type`.
 */
import assert from "node:assert/strict";
import { type Admin, Kafka, logLevel } from "kafkajs";
import { muteKafkajsTimeoutWarning, sharedBrokers } from "@payments/kafka/harness";
import { topicBytesOnDisk } from "@payments/testing/log_dirs";
import { produceWithKcat, readCommitted } from "@payments/testing/records";
import { compressionType, KAFKA_COMPRESSIONS, type KafkaCompression } from "./kafka_codecs.ts";

const CODECS = KAFKA_COMPRESSIONS.filter((c) => c !== "none");

/** Payment-like JSON values: 300 in small sends, then 400 in one send (over 64 KiB). */
function values(run: string): { small: string[]; large: string[] } {
  const value = (i: number) =>
    JSON.stringify({
      payment_id: `P-${run}-${i}`,
      amount: (i * 37) % 10_000 / 3,
      merchant_id: `M-${i % 13}`,
      customer_id: `C-${i % 101}`,
      currency: "USD",
      description: "x".repeat(i % 200),
      status: "PENDING",
      created_at: new Date(1_790_000_000_000 + i * 1_000).toISOString(),
    });
  return {
    small: Array.from({ length: 300 }, (_, i) => value(i)),
    large: Array.from({ length: 400 }, (_, i) => value(1000 + i)),
  };
}

async function withTopics(
  admin: Admin,
  names: string[],
  configFor: (name: string) => { name: string; value: string }[],
  fn: () => Promise<void>,
) {
  await admin.createTopics({
    waitForLeaders: true,
    topics: names.map((topic) => ({ topic, numPartitions: 1, configEntries: configFor(topic) })),
  });
  try {
    await fn();
  } finally {
    await admin.deleteTopics({ topics: names }).catch(() => {});
  }
}

/** Every value of `topic` read with a kafkajs consumer, once `expected` arrived. */
async function readWithKafkajs(kafka: Kafka, topic: string, expected: number): Promise<string[]> {
  const consumer = kafka.consumer({
    groupId: `codec-${crypto.randomUUID()}`,
    maxWaitTimeInMs: 100,
  });
  const got: string[] = [];
  let crash: string | undefined;
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    crash = `${payload.error.name}: ${payload.error.message}`;
  });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: ({ message }) => {
        got.push(message.value?.toString() ?? "");
        return Promise.resolve();
      },
    });
    const deadline = Date.now() + 30_000;
    while (got.length < expected && crash === undefined && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } finally {
    await consumer.disconnect();
  }
  assert.equal(crash, undefined, `the kafkajs consumer of ${topic} crashed`);
  return got;
}

Deno.test("batches kafkajs writes with each codec are read back by kcat byte for byte, and the broker stores them compressed", async () => {
  muteKafkajsTimeoutWarning();
  const brokers = sharedBrokers();
  const kafka = new Kafka({ clientId: "codecs-ours", brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const run = crypto.randomUUID().slice(0, 8);
  const topicOf = (codec: KafkaCompression) => `codecs-${run}-ours-${codec}`;
  const { small, large } = values(run);
  try {
    await withTopics(admin, KAFKA_COMPRESSIONS.map(topicOf), () => [], async () => {
      const producer = kafka.producer();
      await producer.connect();
      try {
        for (const codec of KAFKA_COMPRESSIONS) {
          const compression = compressionType(codec);
          for (let i = 0; i < small.length; i += 100) {
            const messages = small.slice(i, i + 100).map((value) => ({ value }));
            await producer.send({ topic: topicOf(codec), compression, messages });
          }
          const messages = large.map((value) => ({ value }));
          await producer.send({ topic: topicOf(codec), compression, messages });
        }
      } finally {
        await producer.disconnect();
      }
      for (const codec of KAFKA_COMPRESSIONS) {
        const records = await readCommitted(brokers[0]!, topicOf(codec));
        assert.deepEqual(records.map((r) => r.payload), [...small, ...large], codec);
      }
      const sizes = await topicBytesOnDisk(brokers[0]!, KAFKA_COMPRESSIONS.map(topicOf));
      const plain = sizes.get(topicOf("none"))!;
      for (const codec of CODECS) {
        const size = sizes.get(topicOf(codec))!;
        assert.ok(size > 0 && size < plain / 2, `${codec}: ${size} bytes on disk, none: ${plain}`);
      }
    });
  } finally {
    await admin.disconnect();
  }
});

Deno.test("batches kcat (librdkafka) writes with each codec are read by kafkajs", async () => {
  muteKafkajsTimeoutWarning();
  const brokers = sharedBrokers();
  const kafka = new Kafka({ clientId: "codecs-kcat", brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const run = crypto.randomUUID().slice(0, 8);
  const topicOf = (codec: KafkaCompression) => `codecs-${run}-kcat-${codec}`;
  const { small } = values(run);
  try {
    await withTopics(admin, CODECS.map(topicOf), () => [], async () => {
      for (const codec of CODECS) {
        await produceWithKcat(
          brokers[0]!,
          topicOf(codec),
          small.map((value, i) => ({ key: `K-${i}`, value })),
          { compression: codec, lingerMs: 100 },
        );
      }
      for (const codec of CODECS) {
        assert.deepEqual(
          await readWithKafkajs(kafka, topicOf(codec), small.length),
          small,
          codec,
        );
      }
      const sizes = await topicBytesOnDisk(brokers[0]!, CODECS.map(topicOf));
      const plain = new TextEncoder().encode(small.join("")).length;
      for (const codec of CODECS) {
        const size = sizes.get(topicOf(codec))!;
        assert.ok(size < plain / 2, `kcat -z ${codec}: ${size} bytes on disk for ${plain} of JSON`);
      }
    });
  } finally {
    await admin.disconnect();
  }
});

Deno.test("batches the broker (Java) compresses for a topic's compression.type are read by kafkajs", async () => {
  muteKafkajsTimeoutWarning();
  const brokers = sharedBrokers();
  const kafka = new Kafka({ clientId: "codecs-java", brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const run = crypto.randomUUID().slice(0, 8);
  const topicOf = (codec: KafkaCompression) => `codecs-${run}-java-${codec}`;
  const codecOf = (topic: string) => topic.slice(topic.lastIndexOf("-") + 1);
  const { small, large } = values(run);
  try {
    await withTopics(
      admin,
      CODECS.map(topicOf),
      (topic) => [{ name: "compression.type", value: codecOf(topic) }],
      async () => {
        const producer = kafka.producer();
        await producer.connect();
        try {
          for (const codec of CODECS) {
            // Sent uncompressed: the broker recompresses with the topic's codec.
            await producer.send({
              topic: topicOf(codec),
              messages: small.map((value) => ({ value })),
            });
            await producer.send({
              topic: topicOf(codec),
              messages: large.map((value) => ({ value })),
            });
          }
        } finally {
          await producer.disconnect();
        }
        for (const codec of CODECS) {
          const expected = [...small, ...large];
          assert.deepEqual(await readWithKafkajs(kafka, topicOf(codec), expected.length), expected);
        }
        const sizes = await topicBytesOnDisk(brokers[0]!, CODECS.map(topicOf));
        const plain = new TextEncoder().encode([...small, ...large].join("")).length;
        for (const codec of CODECS) {
          const size = sizes.get(topicOf(codec))!;
          assert.ok(size < plain / 2, `Java ${codec}: ${size} bytes on disk for ${plain} of JSON`);
        }
      },
    );
  } finally {
    await admin.disconnect();
  }
});
