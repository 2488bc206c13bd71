/**
 * Consumer crash storm: three consumer instances share the group; every few seconds one
 * of them is killed with SIGKILL and a replacement started, while they work through a
 * backlog that repeats some payment ids.
 */
import assert from "node:assert/strict";
import { startThrowawayBroker } from "@payments/testing/brokers";
import { answersOf, assertExactlyOnce, judgeAnswers } from "@payments/testing/exactly_once";
import { testClient } from "@payments/testing/kafka";
import { readCommitted } from "@payments/testing/kcat";
import { paymentEvent } from "@payments/testing/payments";
import { produce } from "@payments/testing/produce";
import { reportFigures } from "@payments/testing/report";
import { serviceEnv, type ServiceProcess, startService } from "@payments/testing/services";
import { createPipelineTopics } from "@payments/testing/topics";
import { withTimeout } from "@payments/testing/wait";
import { pick, sleep } from "./support.ts";

const PAYMENTS = pick(5000, 2000);
const REPEATS = pick(150, 60);
const KILLS = pick(6, 3);
const KILL_EVERY_MS = pick(4000, 3500);

Deno.test("kill -9 of one of three consumers every few seconds: exactly one answer per record, no double approval", async () => {
  await withTimeout(
    (async () => {
      await using broker = await startThrowawayBroker({ topics: [] });
      const brokers = [broker.bootstrap];
      const topics = await createPipelineTopics(brokers, "storm", { partitions: 6 });
      const now = Date.now();
      const payments = Array.from({ length: PAYMENTS }, (_, i) =>
        paymentEvent({
          payment_id: `STORM-${now}-${i}`,
          amount: 10 + (i % 50),
          correlation_id: `storm-${i}`,
          source: "chaos",
        }));
      const inputs = [...payments, ...payments.slice(0, REPEATS)];
      // Idempotent: a send retried on the busy broker must not write its records twice,
      // or the topic holds more inputs than the test counts.
      await produce({ kafka: testClient(brokers, { clientId: "storm" }), topics }, inputs);

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
      const answers = answersOf(results, dlq);
      const verdict = judgeAnswers(answers, inputs.length, topics.requests);
      const duplicates = answers.filter((a) => a.result?.outcome === "DUPLICATE").length;
      reportFigures("consumer crash storm", {
        quick: PAYMENTS < 5000,
        inputs: inputs.length,
        kills,
        results: results.length,
        dead_letters: dlq.length,
        inputs_answered: verdict.answered,
        inputs_answered_twice: verdict.repeated.length,
        duplicate_outcomes: duplicates,
        duplicates_approved: verdict.approvedTwice.length,
      });
      assertExactlyOnce(verdict);
      assert.equal(duplicates, REPEATS, "each repeated payment id is answered DUPLICATE");
    })(),
    pick(300_000, 200_000),
    "consumer crash storm",
  );
});
