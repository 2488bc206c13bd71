/**
 * The whole pipeline as a user runs it: payments posted over HTTP to the producer
 * process, processed by the consumer process, results read back from Kafka with
 * read_committed; and lag watched on the producer's own /metrics while no consumer
 * runs.
 */
import assert from "node:assert/strict";
import { type PaymentResult, PaymentResultSchema } from "@payments/shared/payment";
import { freePort, sharedBrokers } from "@payments/testing/brokers";
import { testClient } from "@payments/testing/kafka";
import { startService } from "@payments/testing/services";
import { createTopics, deleteTopics, uniqueTopics } from "@payments/testing/topics";
import { eventually } from "@payments/testing/wait";

const brokers = sharedBrokers();

async function post(url: string, body: unknown): Promise<Response> {
  return await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

/** Reads committed results until `count` arrived or the deadline passes. */
async function readResults(topic: string, count: number, timeoutMs = 30_000) {
  const kafka = testClient(brokers, { clientId: "e2e-reader" });
  const consumer = kafka.consumer({
    groupId: `e2e-reader-${crypto.randomUUID()}`,
    readUncommitted: false,
    maxWaitTimeInMs: 200,
  });
  const results: PaymentResult[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    let done: () => void = () => {};
    const enough = new Promise<void>((resolve) => done = resolve);
    await consumer.run({
      eachMessage: ({ message }) => {
        results.push(PaymentResultSchema.parse(JSON.parse(message.value!.toString())));
        if (results.length >= count) done();
        return Promise.resolve();
      },
    });
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([enough, new Promise((resolve) => timer = setTimeout(resolve, timeoutMs))]);
    clearTimeout(timer);
  } finally {
    await consumer.disconnect();
  }
  return results;
}

function metricSum(text: string, name: string, group: string): number | undefined {
  const lines = text.split("\n")
    .filter((line) => line.startsWith(`${name}{`) && line.includes(`group="${group}"`));
  if (lines.length === 0) return undefined;
  return lines.reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(" ") + 1)), 0);
}

/** The first value of `probe` that `accept` takes, polled every 250 ms for up to 30 s. */
async function reached<T>(
  probe: () => Promise<T>,
  accept: (value: T) => boolean,
  what: string,
): Promise<T> {
  let last: T | undefined;
  await eventually(async () => accept(last = await probe()), 30_000, what, {
    intervalMs: 250,
    context: () => `last value ${JSON.stringify(last)}`,
  });
  return last!;
}

Deno.test("payments posted over HTTP each get exactly one result with the outcome of its rule", async () => {
  const topics = uniqueTopics("e2e-rules");
  const groupId = `e2e-rules-${crypto.randomUUID()}`;
  await createTopics(brokers, topics);
  try {
    await using producer = await startService("producer", {
      port: freePort(),
      brokers,
      topics,
      groupId,
      env: { LAG_MONITOR_ENABLED: "false" },
    });
    await using _consumer = await startService("consumer", {
      port: freePort(),
      brokers,
      topics,
      groupId,
      env: {
        CONSUMER_BLOCKED_MERCHANTS: "M-BLOCKED",
        CONSUMER_AMOUNT_LIMITS: "EUR:100",
        CONSUMER_VELOCITY_MAX_PER_MINUTE: "2",
        CONSUMER_SESSION_TIMEOUT_MS: "6000",
      },
    });
    const run = crypto.randomUUID().slice(0, 8);
    const base = { merchant_id: "M-1", currency: "USD", amount: 10 };
    const velocity = (i: number) => ({
      ...base,
      payment_id: `${run}-v${i}`,
      customer_id: `C-v-${run}`,
    });
    const batch = [
      { ...base, payment_id: `${run}-ok`, customer_id: `C-ok-${run}` },
      {
        ...base,
        payment_id: `${run}-blocked`,
        customer_id: `C-b-${run}`,
        merchant_id: "M-BLOCKED",
      },
      {
        ...base,
        payment_id: `${run}-eur`,
        customer_id: `C-e-${run}`,
        currency: "EUR",
        amount: 150,
      },
      velocity(1),
    ];
    const accepted = await post(`${producer.url}/payments/batch`, { payments: batch });
    assert.equal(accepted.status, 202, await accepted.clone().text());
    assert.equal((await accepted.json()).successful, batch.length);
    await readResults(topics.results, batch.length);
    // Payments are keyed by payment_id, so one customer's payments spread over
    // partitions and velocity is only as current as the last committed result: the
    // customer's further payments are sent once the previous one has its result.
    for (const [i, payment] of [[2, velocity(2)], [3, velocity(3)]] as const) {
      const response = await post(`${producer.url}/payments`, payment);
      assert.equal(response.status, 202);
      await response.body?.cancel();
      await readResults(topics.results, batch.length + i - 1);
    }
    // The same payment again, in a later request: it must never be approved twice.
    const again = await post(`${producer.url}/payments`, batch[0]);
    assert.equal(again.status, 202);
    await again.body?.cancel();

    const results = await readResults(topics.results, batch.length + 3);
    const outcomes = results.map((r) => [r.payment_id.slice(run.length + 1), r.outcome]).sort();
    assert.deepEqual(outcomes, [
      ["blocked", "DECLINED"],
      ["eur", "DECLINED"],
      ["ok", "APPROVED"],
      ["ok", "DUPLICATE"],
      ["v1", "APPROVED"],
      ["v2", "APPROVED"],
      ["v3", "DECLINED"],
    ]);
    const reasons = Object.fromEntries(
      results.filter((r) => r.outcome === "DECLINED").map((r) => [r.payment_id, r.reason]),
    );
    assert.match(reasons[`${run}-blocked`]!, /merchant/i);
    assert.match(reasons[`${run}-eur`]!, /limit|amount/i);
    assert.match(reasons[`${run}-v3`]!, /velocity|per minute/i);
  } finally {
    await deleteTopics(brokers, [topics.requests, topics.results, topics.dlq]);
  }
});

Deno.test("with no consumer running, lag on the producer's /metrics keeps rising, then falls to 0", async () => {
  const topics = uniqueTopics("e2e-lag");
  const groupId = `e2e-lag-${crypto.randomUUID()}`;
  await createTopics(brokers, topics);
  try {
    await using producer = await startService("producer", {
      port: freePort(),
      brokers,
      topics,
      groupId,
      env: { LAG_MONITOR_INTERVAL_MS: "500" },
    });
    const lag = async () => {
      const text = await (await fetch(`${producer.url}/metrics`)).text();
      return {
        messages: metricSum(text, "consumer_lag_messages", groupId),
        seconds: metricSum(text, "consumer_lag_seconds", groupId),
      };
    };
    const send = async (n: number) => {
      const payments = Array.from({ length: n }, () => ({
        payment_id: crypto.randomUUID(),
        amount: 5,
        merchant_id: "M-1",
        customer_id: crypto.randomUUID(),
      }));
      const response = await post(`${producer.url}/payments/batch`, { payments });
      assert.equal(response.status, 202);
      await response.body?.cancel();
    };

    await send(5);
    const first = await reached(lag, (l) => l.messages === 5, "lag after 5 payments");
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await send(5);
    const second = await reached(lag, (l) => l.messages === 10, "lag after 10 payments");
    assert.ok(second.seconds! > first.seconds!, JSON.stringify({ first, second }));
    assert.ok(second.seconds! >= 1.5, `oldest record waits >= 1.5 s: ${second.seconds}`);

    await using _consumer = await startService("consumer", {
      port: freePort(),
      brokers,
      topics,
      groupId,
      env: { CONSUMER_SESSION_TIMEOUT_MS: "6000", LAG_MONITOR_ENABLED: "false" },
    });
    await reached(lag, (l) => l.messages === 0 && l.seconds === 0, "lag once consumed");
  } finally {
    await deleteTopics(brokers, [topics.requests, topics.results, topics.dlq]);
  }
});
