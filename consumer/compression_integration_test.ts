/**
 * The consumer reads what real producers write and writes with KAFKA_COMPRESSION: input
 * batches from kcat (librdkafka, what confluent-kafka wraps) in every codec, the lab's
 * own record, and results in every codec read back by kcat.
 */
import assert from "node:assert/strict";
import { topicBytesOnDisk } from "@payments/kafka/log_dirs";
import { KAFKA_COMPRESSIONS } from "@payments/shared/kafka_codecs";
import { type PaymentEvent, PaymentResultSchema } from "@payments/shared/payment";
import { readAnswers } from "@payments/testing/answers";
import { sharedBrokers } from "@payments/testing/brokers";
import { assertExactlyOnce, judgeAnswers } from "@payments/testing/exactly_once";
import { produceWithKcat, readCommitted } from "@payments/testing/kcat";
import { sampleValue } from "@payments/testing/metrics_text";
import { paymentEvent } from "@payments/testing/payments";
import { produce } from "@payments/testing/produce";
import { startConsumer } from "@payments/testing/services";
import { testKafka } from "@payments/testing/test_kafka";
import { runService } from "./testing.ts";

const CODECS = ["gzip", "snappy", "lz4", "zstd"] as const;

const asKcatRecords = (payments: PaymentEvent[]) =>
  payments.map((p) => ({ key: p.payment_id, value: JSON.stringify(p) }));

async function metrics(url: string): Promise<string> {
  const response = await fetch(`${url}/metrics`);
  return await response.text();
}

Deno.test("payments kcat writes with gzip, snappy, lz4 and zstd are each answered exactly once, APPROVED, and the partition goes on", async () => {
  await using t = await testKafka("kcat-codecs", 1);
  const batches = CODECS.map(() => Array.from({ length: 25 }, () => paymentEvent()));
  for (const [i, codec] of CODECS.entries()) {
    await produceWithKcat(t.brokers.join(","), t.topics.requests, asKcatRecords(batches[i]!), {
      compression: codec,
      partition: 0,
      headers: { source: `kcat-${codec}` },
    });
  }
  // Plain kafkajs records after the compressed ones, on the same partition.
  const after = Array.from({ length: 25 }, () => paymentEvent());
  await produce(t, after, { partition: 0 });
  const inputs = [...batches.flat(), ...after];

  await using consumer = await startConsumer(t);
  const answers = await readAnswers(t, inputs.length, 60_000);
  assertExactlyOnce(judgeAnswers(answers, inputs.length, t.topics.requests));
  assert.deepEqual(
    answers.map((a) => [a.result?.payment_id, a.result?.outcome]),
    inputs.map((p) => [p.payment_id, "APPROVED"]),
    "every payment APPROVED, in partition order",
  );
  const text = await metrics(consumer.url);
  assert.equal(sampleValue(text, "consumer_errors_total", { error_type: "crash" }), 0);
  assert.equal(sampleValue(text, "consumer_worker_state", { state: "assigned" }), 1);
});

Deno.test("a record exactly as the lab's producer writes it is APPROVED, its naive created_at read as UTC and its source counted", async () => {
  await using t = await testKafka("lab-record", 1);
  // What the lab's FastAPI producer sends: `json.dumps` of its record (Python's separators),
  // created_at from `datetime.now().isoformat()` in a UTC container (microseconds, no
  // offset), headers correlation_id and source, confluent-kafka with snappy and linger.
  const now = new Date();
  const createdAt = `${now.toISOString().slice(0, 23)}215`;
  const fields: Record<string, unknown> = {
    payment_id: `LAB-${crypto.randomUUID().slice(0, 8)}`,
    amount: 99.99,
    merchant_id: "MERCH-001",
    customer_id: `CUST-${crypto.randomUUID().slice(0, 8)}`,
    currency: "USD",
    description: null,
    status: "PENDING",
    correlation_id: "lab-corr-0001",
    created_at: createdAt,
    source: "lab-producer",
  };
  const pythonJson = `{${
    Object.entries(fields).map(([k, v]) => `${JSON.stringify(k)}: ${JSON.stringify(v)}`).join(
      ", ",
    )
  }}`;
  await produceWithKcat(
    t.brokers.join(","),
    t.topics.requests,
    [{ key: String(fields.payment_id), value: pythonJson }],
    {
      compression: "snappy",
      lingerMs: 100,
      headers: { correlation_id: "lab-corr-0001", source: "lab-producer" },
    },
  );

  // A consumer whose local time is 5 h 30 ahead of UTC: reading the naive time as local
  // time would put the payment 5.5 hours in the past.
  await using consumer = await startConsumer(t, { env: { TZ: "Asia/Kolkata" } });
  const [answer, ...more] = await readAnswers(t, 1, 60_000);
  assert.deepEqual(more, []);
  assert.equal(answer!.topic, t.topics.results, `dead-lettered: ${answer!.headers.dlq_error}`);
  const result = PaymentResultSchema.parse(answer!.result);
  assert.equal(result.outcome, "APPROVED");
  assert.equal(result.payment_id, fields.payment_id);
  assert.equal(result.created_at, `${createdAt}Z`);
  assert.equal(result.correlation_id, "lab-corr-0001");
  assert.equal(answer!.headers.correlation_id, "lab-corr-0001");

  const text = await metrics(consumer.url);
  const topic = { topic: t.topics.requests };
  assert.equal(sampleValue(text, "end_to_end_latency_seconds_count", topic), 1);
  const latency = sampleValue(text, "end_to_end_latency_seconds_sum", topic)!;
  // Not a timing target: 5.5 h (local time) or 0 (clamped future) would be misreadings.
  assert.ok(latency > 0 && latency < 600, `end-to-end latency ${latency} s`);
  assert.equal(sampleValue(text, "payments_naive_timestamps_total", { source: "lab-producer" }), 1);
  const notice = consumer.lines().filter((line) => line.includes("without an offset"));
  assert.equal(notice.length, 1, consumer.tail());
  assert.match(notice[0]!, /"source":"lab-producer"/);
});

Deno.test("results and dead letters the consumer writes with each KAFKA_COMPRESSION are read by kcat and stored compressed", async () => {
  const sizes = new Map<string, { results: number; json: number }>();
  const bootstrap = sharedBrokers()[0]!;
  for (const codec of KAFKA_COMPRESSIONS) {
    await using t = await testKafka(`results-${codec}`, 1);
    const inputs = Array.from({ length: 200 }, () => paymentEvent());
    await produce(t, inputs, { partition: 0 });
    await produceWithKcat(bootstrap, t.topics.requests, [{ key: "K-BAD", value: "{not json" }], {
      partition: 0,
    });
    await using _service = await runService(t, { compression: codec });
    const answers = await readAnswers(t, inputs.length + 1, 60_000);
    assertExactlyOnce(judgeAnswers(answers, inputs.length + 1, t.topics.requests));

    const results = await readCommitted(bootstrap, t.topics.results);
    assert.deepEqual(
      results.map((r) => PaymentResultSchema.parse(JSON.parse(r.payload!)).payment_id),
      inputs.map((p) => p.payment_id),
      `${codec}: kcat reads every result`,
    );
    const dead = await readCommitted(bootstrap, t.topics.dlq);
    assert.deepEqual(dead.map((d) => [d.key, d.payload]), [["K-BAD", "{not json"]], codec);
    const onDisk = await topicBytesOnDisk(bootstrap, [t.topics.results]);
    sizes.set(codec, {
      results: onDisk.get(t.topics.results)!,
      json: results.reduce((sum, r) => sum + r.payload!.length, 0),
    });
  }
  const plain = sizes.get("none")!;
  assert.ok(plain.results > plain.json, `uncompressed: ${plain.results} >= ${plain.json} of JSON`);
  for (const codec of CODECS) {
    const { results } = sizes.get(codec)!;
    assert.ok(results < plain.results / 2, `${codec}: ${results} bytes, none: ${plain.results}`);
  }
});

/** Runs the lab's producer (consumer/testdata/lab_producer.py); returns its created_at. */
async function labProducer(args: string[]): Promise<string> {
  const script = new URL("./testdata/lab_producer.py", import.meta.url).pathname;
  const install = "pip install confluent-kafka==2.16.1";
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command("python3", {
      args: [script, ...args],
      // The lab's containers run in UTC, so datetime.now() is UTC there.
      env: { TZ: "UTC" },
      stdout: "piped",
      stderr: "piped",
    }).output();
  } catch (error) {
    throw new Error(`python3 is missing: install it (apt-get install python3) and ${install}`, {
      cause: error,
    });
  }
  const stderr = new TextDecoder().decode(out.stderr);
  if (/No module named 'confluent_kafka'/.test(stderr)) {
    throw new Error(`confluent-kafka is missing: install it with \`${install}\``);
  }
  assert.ok(out.success, `the lab's producer failed: ${stderr}`);
  return new TextDecoder().decode(out.stdout).trim();
}

Deno.test("a payment the lab's own producer writes (confluent-kafka, snappy) is APPROVED with a sensible end-to-end latency", async () => {
  await using t = await testKafka("lab-python", 1);
  const paymentId = `LAB-PY-${crypto.randomUUID().slice(0, 8)}`;
  const createdAt = await labProducer([
    t.brokers.join(","),
    t.topics.requests,
    paymentId,
    `CUST-${crypto.randomUUID().slice(0, 8)}`,
    "lab-python-corr",
  ]);
  assert.match(createdAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?$/, "a naive isoformat()");
  await using consumer = await startConsumer(t, { env: { TZ: "Asia/Kolkata" } });
  const answers = await readAnswers(t, 1, 60_000);
  assert.equal(answers.length, 1);
  assert.equal(
    answers[0]!.topic,
    t.topics.results,
    `dead-lettered: ${answers[0]!.headers.dlq_error}`,
  );
  const result = PaymentResultSchema.parse(answers[0]!.result);
  assert.deepEqual([result.payment_id, result.outcome, result.created_at], [
    paymentId,
    "APPROVED",
    `${createdAt}Z`,
  ]);
  assert.equal(answers[0]!.headers.correlation_id, "lab-python-corr");
  const text = await metrics(consumer.url);
  const latency = sampleValue(text, "end_to_end_latency_seconds_sum", {
    topic: t.topics.requests,
  })!;
  assert.ok(latency > 0 && latency < 600, `end-to-end latency ${latency} s`);
  assert.equal(sampleValue(text, "payments_naive_timestamps_total", { source: "lab-producer" }), 1);
});
