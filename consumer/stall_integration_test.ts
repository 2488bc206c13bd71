/**
 * No synchronous step of a restore blocks the consumer's event loop for long: a store
 * rebuilt from a changelog of many claims, then opened again large, with the
 * consumer's own `event_loop_delay_max_seconds` read from its `/metrics`.
 */
import assert from "node:assert/strict";
import { Partitioners } from "kafkajs";
import { claimRecord } from "./payments/claim_records.ts";
import { freePort } from "@payments/testing/brokers";
import { paymentEvent } from "@payments/testing/payments";
import { produce } from "@payments/testing/produce";
import { type ServiceProcess, startConsumer } from "@payments/testing/services";
import { type TestKafka, testKafka } from "@payments/testing/test_kafka";
import { readCommitted } from "@payments/testing/kcat";
import { eventually } from "@payments/testing/wait";

/** The bound of the issue this test holds the consumer to. */
const MAX_BLOCK_SECONDS = 0.1;
const HISTORY = 120_000;

/** `count` claims written straight to the payment tasks' changelog, 2 partitions. */
async function writeHistory(t: TestKafka, count: number) {
  const producer = t.kafka.producer({
    createPartitioner: Partitioners.DefaultPartitioner,
    idempotent: true,
    maxInFlightRequests: 1,
  });
  await producer.connect();
  try {
    const now = Date.now();
    for (let start = 0; start < count; start += 5000) {
      const messages = [];
      for (let i = start; i < Math.min(count, start + 5000); i++) {
        const record = claimRecord({
          paymentId: `HIST-${i}`,
          customerId: `C-${i % 1000}`,
          createdAtMs: now - 60_000,
          claimedAtMs: now - 60_000,
          inputPartition: i % 2,
          // Claimed by an earlier run of another input topic: no input offset here is
          // answered by them (offset 0 would make the store skip the first request).
          inputOffset: -1,
          correlationId: `corr-${i}`,
          duplicates: 0,
        }, t.topics.decisions);
        messages.push({
          key: record.key as string,
          value: record.value as string,
          partition: record.partition,
        });
      }
      await producer.send({ topic: t.topics.decisions, acks: -1, messages });
    }
  } finally {
    await producer.disconnect();
  }
}

async function maxBlock(consumer: ServiceProcess): Promise<number> {
  const text = await (await fetch(`${consumer.url}/metrics`)).text();
  const match = /^event_loop_delay_max_seconds(?:\{[^}]*\})? ([0-9.e-]+)$/m.exec(text);
  assert.ok(match, "event_loop_delay_max_seconds is exported");
  return Number(match[1]);
}

async function runOnce(t: TestKafka, dir: string, answers: number) {
  const port = freePort("127.0.0.1");
  const consumer = await startConsumer(t, {
    port,
    waitReady: false,
    env: { CONSUMER_STATE_DIR: dir, CONSUMER_ADVERTISED_URL: `http://127.0.0.1:${port}` },
  });
  try {
    await consumer.waitReady(120_000);
    await produce(t, [paymentEvent()]);
    await eventually(
      async () => (await readCommitted(t.brokers.join(","), t.topics.results)).length >= answers,
      60_000,
      "a new payment answered after the restore",
    );
    const restored = consumer.lines()
      .filter((l) => l.includes('"message":"Task payments-'))
      .map((l) => JSON.parse(l) as { records: number; kind: string });
    return { blocked: await maxBlock(consumer), restored };
  } finally {
    assert.equal(await consumer.stop(), 0);
  }
}

Deno.test("rebuilding a store of 120,000 claims and opening it again never blocks the event loop for 100 ms", async () => {
  await using t = await testKafka("stall", 2);
  await writeHistory(t, HISTORY);
  const dir = await Deno.makeTempDir({ prefix: "stall-" });
  try {
    const rebuild = await runOnce(t, dir, 1);
    assert.equal(
      rebuild.restored.reduce((n, r) => n + r.records, 0),
      HISTORY,
      "the history was read",
    );
    assert.ok(
      rebuild.blocked < MAX_BLOCK_SECONDS,
      `a rebuild blocked the event loop for ${rebuild.blocked} s`,
    );
    const reopen = await runOnce(t, dir, 2);
    assert.ok(reopen.restored.every((r) => r.kind === "checkpoint"));
    assert.ok(
      reopen.blocked < MAX_BLOCK_SECONDS,
      `opening the large store blocked the event loop for ${reopen.blocked} s`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
