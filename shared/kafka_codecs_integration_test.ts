/**
 * The codecs against the real broker and two clients that share no code with ours:
 * kcat (librdkafka, what confluent-kafka wraps) and the broker itself (Java), which
 * recompresses batches when a topic sets `compression.type`.
 */
import assert from "node:assert/strict";
import { Kafka, logLevel } from "kafkajs";
import { topicBytesOnDisk } from "@payments/kafka/log_dirs";
import { muteKafkajsTimeoutWarning } from "@payments/shared/kafkajs_quiet";
import { sharedBrokers } from "@payments/testing/brokers";
import { produceWithKcat, readCommitted } from "@payments/testing/kcat";
import { createTopicsWithLeaders } from "@payments/testing/topics";
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

/** What each test gets: a client, unique topics (one per codec) and the values. */
interface CodecRun {
  kafka: Kafka;
  bootstrap: string;
  topicOf: (codec: KafkaCompression) => string;
  small: string[];
  large: string[];
}

/**
 * Runs `fn` with one single-partition topic per codec of `codecs` (topic configs from
 * `configFor`), deleted afterwards.
 */
async function withCodecTopics(
  label: string,
  codecs: readonly KafkaCompression[],
  configFor: (codec: KafkaCompression) => { name: string; value: string }[],
  fn: (run: CodecRun) => Promise<void>,
) {
  muteKafkajsTimeoutWarning();
  const brokers = sharedBrokers();
  const kafka = new Kafka({ clientId: `codecs-${label}`, brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const id = crypto.randomUUID().slice(0, 8);
  const topicOf = (codec: KafkaCompression) => `codecs-${id}-${label}-${codec}`;
  try {
    await createTopicsWithLeaders(
      admin,
      codecs.map((codec) => ({
        topic: topicOf(codec),
        numPartitions: 1,
        configEntries: configFor(codec),
      })),
    );
    await fn({ kafka, bootstrap: brokers[0]!, topicOf, ...values(id) });
  } finally {
    await admin.deleteTopics({ topics: codecs.map(topicOf) }).catch(() => {});
    await admin.disconnect();
  }
}

/** Asserts that the broker stores each codec's topic in under half of `plainBytes`. */
async function assertStoredCompressed(run: CodecRun, plainBytes: number, who: string) {
  const sizes = await topicBytesOnDisk(run.bootstrap, CODECS.map(run.topicOf));
  for (const codec of CODECS) {
    const size = sizes.get(run.topicOf(codec))!;
    assert.ok(
      size > 0 && size < plainBytes / 2,
      `${who} ${codec}: ${size} bytes, plain ${plainBytes}`,
    );
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

const jsonBytes = (values: string[]) => new TextEncoder().encode(values.join("")).length;

Deno.test("batches kafkajs writes with each codec are read back by kcat byte for byte, and the broker stores them compressed", async () => {
  await withCodecTopics("ours", KAFKA_COMPRESSIONS, () => [], async (run) => {
    const { kafka, bootstrap, topicOf, small, large } = run;
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
      const records = await readCommitted(bootstrap, topicOf(codec));
      assert.deepEqual(records.map((r) => r.payload), [...small, ...large], codec);
    }
    const plain = (await topicBytesOnDisk(bootstrap, [topicOf("none")])).get(topicOf("none"))!;
    await assertStoredCompressed(run, plain, "kafkajs");
  });
});

Deno.test("batches kcat (librdkafka) writes with each codec are read by kafkajs", async () => {
  await withCodecTopics("kcat", CODECS, () => [], async (run) => {
    const { kafka, bootstrap, topicOf, small } = run;
    for (const codec of CODECS) {
      const records = small.map((value, i) => ({ key: `K-${i}`, value }));
      await produceWithKcat(bootstrap, topicOf(codec), records, {
        compression: codec,
        lingerMs: 100,
      });
    }
    for (const codec of CODECS) {
      assert.deepEqual(await readWithKafkajs(kafka, topicOf(codec), small.length), small, codec);
    }
    await assertStoredCompressed(run, jsonBytes(small), "kcat -z");
  });
});

Deno.test("batches the broker (Java) compresses for a topic's compression.type are read by kafkajs", async () => {
  const topicConfig = (codec: KafkaCompression) => [{ name: "compression.type", value: codec }];
  await withCodecTopics("java", CODECS, topicConfig, async (run) => {
    const { kafka, topicOf, small, large } = run;
    const producer = kafka.producer();
    await producer.connect();
    try {
      for (const codec of CODECS) {
        // Sent uncompressed: the broker recompresses with the topic's codec.
        for (const values of [small, large]) {
          await producer.send({
            topic: topicOf(codec),
            messages: values.map((value) => ({ value })),
          });
        }
      }
    } finally {
      await producer.disconnect();
    }
    const expected = [...small, ...large];
    for (const codec of CODECS) {
      assert.deepEqual(await readWithKafkajs(kafka, topicOf(codec), expected.length), expected);
    }
    await assertStoredCompressed(run, jsonBytes(expected), "Java");
  });
});
