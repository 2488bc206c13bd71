/**
 * Scale-out under faults: three consumer instances of one group on 12-partition
 * topics, a steady HTTP stream with repeats, and one customer sending four times the
 * velocity limit within two seconds (its payments land on every partition), while one
 * instance is SIGKILLed and restarted and another SIGTERMed and restarted.
 */
import assert from "node:assert/strict";
import { startThrowawayBroker } from "@payments/testing/brokers";
import { answersOf, assertExactlyOnce, judgeAnswers } from "@payments/testing/exactly_once";
import { freePort } from "@payments/testing/brokers";
import { readCommitted } from "@payments/testing/kcat";
import { paymentRequest } from "@payments/testing/payments";
import { reportFigures } from "@payments/testing/report";
import { type ServiceProcess, startService } from "@payments/testing/services";
import { createPipelineTopics } from "@payments/testing/topics";
import { withTimeout } from "@payments/testing/wait";
import { FAST_FAILURE_ENV, pick, sleep, startPaymentStream } from "./support.ts";

const RATE = pick(150, 60);
const SECONDS = pick(60, 30);
const LIMIT = 10;
const FAST_PAYMENTS = 4 * LIMIT;

async function post(url: string, id: string, customer: string): Promise<number> {
  const response = await fetch(`${url}/payments`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(
      paymentRequest(id, { amount: 12.5, merchant_id: "M-1", customer_id: customer }),
    ),
  });
  await response.body?.cancel();
  return response.status;
}

Deno.test("three consumers, one SIGKILLed and one SIGTERMed and both restarted: one result per input, none approved twice, the velocity limit held exactly, nothing dead-lettered", async () => {
  await withTimeout(
    (async () => {
      await using broker = await startThrowawayBroker({ topics: [] });
      const brokers = [broker.bootstrap];
      const topics = await createPipelineTopics(brokers, "scale-out", { partitions: 12 });
      const groupId = `scale-out-${crypto.randomUUID().slice(0, 8)}`;
      const dirs = await Promise.all(
        [0, 1, 2].map((i) => Deno.makeTempDir({ prefix: `scale-out-${i}-` })),
      );
      const consumer = async (i: number) => {
        const port = freePort("127.0.0.1");
        return await startService("consumer", {
          brokers,
          topics,
          groupId,
          port,
          waitReady: false,
          env: {
            ...FAST_FAILURE_ENV,
            CONSUMER_STATE_DIR: dirs[i]!,
            CONSUMER_ADVERTISED_URL: `http://127.0.0.1:${port}`,
            CONSUMER_VELOCITY_MAX_PER_MINUTE: String(LIMIT),
            CONSUMER_STANDBY_REPLICAS: "1",
          },
        });
      };
      const producer = await startService("producer", {
        brokers,
        topics,
        groupId,
        env: FAST_FAILURE_ENV,
      });
      const instances: ServiceProcess[] = [await consumer(0), await consumer(1), await consumer(2)];
      const fast: { id: string; status: number }[] = [];
      const repeats: { id: string; status: number }[] = [];
      let faults = 0;
      try {
        await Promise.all(instances.map((c) => c.waitReady(120_000)));
        const stream = startPaymentStream(producer.url, { ratePerSecond: RATE, prefix: "SO" });
        const started = Date.now();
        let fastSent = false;
        while (Date.now() - started < SECONDS * 1000) {
          const at = Date.now() - started;
          if (!fastSent && at > 4000) {
            // Four times the limit within a moment, spread over the partitions by id.
            fastSent = true;
            await Promise.all(
              Array.from({ length: FAST_PAYMENTS }, async (_, i) => {
                const id = `FAST-${started}-${i}`;
                fast.push({ id, status: await post(producer.url, id, "C-FAST") });
              }),
            );
          }
          const accepted = stream.sent.filter((s) => s.status === 202);
          if (accepted.length > 0 && Math.random() < 0.3) {
            const again = accepted[Math.floor(Math.random() * accepted.length)]!.id;
            repeats.push({ id: again, status: await post(producer.url, again, again) });
          }
          if (faults === 0 && at > SECONDS * 300) {
            instances[0]!.kill("SIGKILL");
            await instances[0]!.exited;
            instances[0] = await consumer(0);
            faults++;
          } else if (faults === 1 && at > SECONDS * 600) {
            assert.equal(await instances[1]!.stop(30_000), 0, "SIGTERM stops cleanly");
            instances[1] = await consumer(1);
            faults++;
          }
          await sleep(200);
        }
        const sent = await stream.stop();
        const acknowledged = [...sent, ...fast, ...repeats].filter((s) => s.status === 202);
        const inputs = (await readCommitted(broker.bootstrap, topics.requests)).length;
        assert.equal(inputs, acknowledged.length, "every 202 is one input record");
        const deadline = Date.now() + 120_000;
        while (Date.now() < deadline) {
          const results = await readCommitted(broker.bootstrap, topics.results);
          if (results.length >= inputs) break;
          await sleep(1000);
        }
        await sleep(2000); // anything extra (an answer twice) would show up now

        const results = await readCommitted(broker.bootstrap, topics.results);
        const dlq = await readCommitted(broker.bootstrap, topics.dlq);
        const verdict = judgeAnswers(answersOf(results, dlq), inputs, topics.requests);
        const outcomes = results.map((r) =>
          JSON.parse(r.payload!) as { payment_id: string; customer_id: string; outcome: string }
        );
        const fastApproved = outcomes.filter((r) =>
          r.customer_id === "C-FAST" && r.outcome === "APPROVED"
        ).length;
        const fastAnswered = outcomes.filter((r) => r.customer_id === "C-FAST").length;
        const answeredIds = new Set(outcomes.map((r) => r.payment_id));
        reportFigures("scale-out under faults", {
          quick: SECONDS < 60,
          instances: 3,
          partitions: 12,
          inputs,
          results: results.length,
          dead_letters: dlq.length,
          repeats: repeats.filter((r) => r.status === 202).length,
          inputs_answered_twice: verdict.repeated.length,
          approved_twice: verdict.approvedTwice.length,
          over_limit_customer_payments: fastAnswered,
          over_limit_customer_approved: fastApproved,
          velocity_limit: LIMIT,
        });
        assertExactlyOnce(verdict);
        assert.deepEqual(
          acknowledged.filter((s) => !answeredIds.has(s.id)).map((s) => s.id).slice(0, 10),
          [],
          "every acknowledged payment has a result",
        );
        assert.equal(dlq.length, 0, "nothing dead-lettered");
        assert.equal(fast.filter((f) => f.status === 202).length, FAST_PAYMENTS);
        assert.equal(fastAnswered, FAST_PAYMENTS, "each of the customer's payments answered");
        assert.equal(
          fastApproved,
          LIMIT,
          "the customer approved exactly as often as the limit allows",
        );
      } finally {
        const codes = await Promise.all([...instances, producer].map((s) => s.stop(30_000)));
        assert.deepEqual(codes, [0, 0, 0, 0], "every service exits cleanly on SIGTERM");
        await Promise.all(dirs.map((d) => Deno.remove(d, { recursive: true })));
      }
    })(),
    pick(400_000, 240_000),
    "scale-out under faults",
  );
});
