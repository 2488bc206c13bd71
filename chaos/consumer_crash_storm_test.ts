/**
 * Consumer crash storm: three consumer instances share the group; every few seconds one
 * of them is killed with SIGKILL and a replacement started, while they work through a
 * backlog that repeats some payment ids.
 */
import assert from "node:assert/strict";
import { Kafka, logLevel, Partitioners } from "kafkajs";
import {
  muteKafkajsTimeoutWarning,
  startThrowawayBroker,
  withTimeout,
} from "@payments/kafka/harness";
import { readCommitted } from "@payments/testing/records";
import { createPipelineTopics } from "@payments/testing/topics";
import { reportFigures } from "@payments/testing/report";
import { serviceEnv, type ServiceProcess, startService } from "@payments/testing/services";
import { pick, sleep } from "./support.ts";

const PAYMENTS = pick(5000, 2000);
const REPEATS = pick(150, 60);
const KILLS = pick(6, 3);
const KILL_EVERY_MS = pick(4000, 3500);

Deno.test("kill -9 of one of three consumers every few seconds: exactly one answer per record, no double approval", async () => {
  muteKafkajsTimeoutWarning();
  await withTimeout(
    (async () => {
      await using broker = await startThrowawayBroker({ topics: [] });
      const brokers = [broker.bootstrap];
      const topics = await createPipelineTopics(brokers, "storm", { partitions: 6 });
      const now = Date.now();
      const payments = Array.from({ length: PAYMENTS }, (_, i) => ({
        payment_id: `STORM-${now}-${i}`,
        amount: 10 + (i % 50),
        merchant_id: "M-1",
        customer_id: `C-${i}`,
        currency: "USD",
        description: null,
        status: "PENDING",
        created_at: new Date().toISOString(),
        correlation_id: `storm-${i}`,
        source: "chaos",
      }));
      const inputs = [...payments, ...payments.slice(0, REPEATS)];
      const kafka = new Kafka({ clientId: "storm", brokers, logLevel: logLevel.NOTHING });
      // Idempotent: a send retried on the busy broker must not write its records twice,
      // or the topic holds more inputs than the test counts.
      const producer = kafka.producer({
        createPartitioner: Partitioners.DefaultPartitioner,
        idempotent: true,
        maxInFlightRequests: 1,
      });
      await producer.connect();
      for (let i = 0; i < inputs.length; i += 500) {
        await producer.send({
          topic: topics.requests,
          acks: -1,
          messages: inputs.slice(i, i + 500).map((p) => ({
            key: p.payment_id,
            value: JSON.stringify(p),
            headers: { correlation_id: p.correlation_id },
          })),
        });
      }
      await producer.disconnect();

      const env = serviceEnv(broker.bootstrap, topics, {
        CONSUMER_GROUP_ID: `${topics.requests}.group`,
        CONSUMER_SESSION_TIMEOUT_MS: "6000",
        CONSUMER_SIMULATED_LATENCY_MS: "15-30",
        CONSUMER_MAX_RECORDS_PER_TRANSACTION: "50",
        LAG_MONITOR_ENABLED: "false",
        LOG_LEVEL: "warning",
      });
      const start = () => startService("consumer", { env, waitReady: false });
      const instances: ServiceProcess[] = await Promise.all([start(), start(), start()]);
      let kills = 0;
      try {
        for (; kills < KILLS; kills++) {
          await sleep(KILL_EVERY_MS);
          const victim = instances.shift()!;
          victim.kill("SIGKILL");
          await victim.exited;
          instances.push(await start());
        }
        const deadline = Date.now() + 120_000;
        let answered = 0;
        while (Date.now() < deadline) {
          answered = (await readCommitted(broker.bootstrap, topics.results)).length +
            (await readCommitted(broker.bootstrap, topics.dlq)).length;
          if (answered >= inputs.length) break;
          await sleep(1000);
        }
        await sleep(2000); // anything extra (a duplicate) would show up now
      } finally {
        const codes = await Promise.all(instances.map((s) => s.stop()));
        assert.deepEqual(codes, [0, 0, 0], "the surviving instances exit cleanly on SIGTERM");
      }

      const results = await readCommitted(broker.bootstrap, topics.results);
      const dlq = await readCommitted(broker.bootstrap, topics.dlq);
      const perInput = new Map<string, number>();
      for (const r of [...results, ...dlq]) {
        const key = `${r.headers.original_partition}@${r.headers.original_offset}`;
        perInput.set(key, (perInput.get(key) ?? 0) + 1);
      }
      const approved = new Map<string, number>();
      let duplicates = 0;
      for (const r of results) {
        const result = JSON.parse(r.payload!) as { payment_id: string; outcome: string };
        if (result.outcome === "DUPLICATE") duplicates++;
        if (result.outcome === "APPROVED") {
          approved.set(result.payment_id, (approved.get(result.payment_id) ?? 0) + 1);
        }
      }
      const twice = [...approved].filter(([, n]) => n > 1);
      reportFigures("consumer crash storm", {
        quick: PAYMENTS < 5000,
        inputs: inputs.length,
        kills,
        results: results.length,
        dead_letters: dlq.length,
        inputs_answered: perInput.size,
        inputs_answered_twice: [...perInput.values()].filter((n) => n > 1).length,
        duplicate_outcomes: duplicates,
        duplicates_approved: twice.length,
      });
      assert.deepEqual(
        [...perInput].filter(([, n]) => n > 1).slice(0, 5),
        [],
        "records answered twice",
      );
      assert.equal(perInput.size, inputs.length, "records with an answer");
      assert.deepEqual(twice.slice(0, 5), [], "payments approved twice");
      assert.equal(duplicates, REPEATS, "each repeated payment id is answered DUPLICATE");
    })(),
    pick(300_000, 200_000),
    "consumer crash storm",
  );
});
