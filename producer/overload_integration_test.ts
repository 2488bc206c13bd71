/**
 * Admission control against the real thing: a producer subprocess, real HTTP, a real
 * broker, kcat reading the topic back and promtool linting the metrics.
 *
 * The small-budget scenario freezes its own broker with SIGSTOP while the burst is
 * answered, so no admitted request can finish before every shed one was answered: the
 * order is forced, not timed.
 */
import assert from "node:assert/strict";
import { sharedBrokers, startThrowawayBroker } from "@payments/testing/brokers";
import { eventually, withTimeout } from "@payments/testing/wait";
import { metricValue } from "@payments/shared/metrics";
import { checkMetrics } from "@payments/testing/promtool";
import { testClient } from "@payments/testing/kafka";
import { paymentRequest } from "@payments/testing/payments";
import { readCommitted } from "@payments/testing/kcat";
import { reportFigures } from "@payments/testing/report";
import { serviceEnv, type ServiceProcess, startService } from "@payments/testing/services";
import { topicSpecs } from "@payments/shared/topics";
import { createPipelineTopics, recordsHeld, uniqueTopics } from "@payments/testing/topics";
import { readyPublisher } from "./testing.ts";
import { PublishError } from "./publisher.ts";

const OVERLOADED = "urn:payments:problem:overloaded";

function batchBody(prefix: string, size: number): string {
  return JSON.stringify({
    payments: Array.from(
      { length: size },
      (_, i) =>
        paymentRequest(`${prefix}-${i}`, { amount: 10, merchant_id: "M-1", customer_id: "C-1" }),
    ),
  });
}

interface Answer {
  index: number;
  status: number;
  problem?: { type?: string; detail?: string; reason?: string };
  retryAfter: string | null;
}

async function postBatch(url: string, body: string, index: number): Promise<Answer> {
  const response = await fetch(`${url}/payments/batch`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body,
  });
  const text = await response.text();
  return {
    index,
    status: response.status,
    retryAfter: response.headers.get("retry-after"),
    ...(response.status >= 400 ? { problem: JSON.parse(text) } : {}),
  };
}

const isShed = (answer: Answer) => answer.status === 503 && answer.problem?.type === OVERLOADED;

/** Sum of every sample of `name` in an exposition text. */
function metricSum(text: string, name: string): number {
  return text.split("\n").filter((line) =>
    line.startsWith(`${name}{`) || line.startsWith(`${name} `)
  )
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(" ") + 1)), 0);
}

async function metricsText(producer: ServiceProcess): Promise<string> {
  return await (await fetch(`${producer.url}/metrics`)).text();
}

/** VmRSS and VmHWM (peak) of a process, in bytes, as the kernel counts them. */
async function memory(pid: number): Promise<{ rss: number; peak: number }> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  const kb = (field: string) =>
    Number(new RegExp(`^${field}:\\s+(\\d+) kB$`, "m").exec(status)?.[1]);
  return { rss: kb("VmRSS") * 1024, peak: kb("VmHWM") * 1024 };
}

async function until(what: string, check: () => boolean, timeoutMs: number): Promise<void> {
  await eventually(check, timeoutMs, what, { intervalMs: 20 });
}

Deno.test("with a frozen broker a send under way may time out ambiguously, a waiting one says nothing was written, and a 500-payment budget sheds at once what does not fit", async (t) => {
  await withTimeout(
    (async () => {
      // The launcher creates the topics and waits for them: a fresh KRaft broker can still
      // answer "does not host this topic-partition" to a client creating them right away.
      const topics = uniqueTopics("overload-budget");
      const timeoutsTopic = `overload-timeouts-${crypto.randomUUID().slice(0, 8)}`;
      await using broker = await startThrowawayBroker({
        topics: [...topicSpecs(topics, 3), { topic: timeoutsTopic, numPartitions: 1 }],
      });

      await t.step(
        "KafkaPublisher: a request timed out while its send was under way may have been written and holds its budget until the send ends; one still waiting is dropped unsent",
        async () => {
          const kafka = testClient(broker.bootstrap, {
            clientId: "overload-publisher",
            quickFailure: true,
          });
          const topic = timeoutsTopic;
          await using publisher = await readyPublisher(kafka, topic, {
            sendTimeoutMs: 20_000,
            readyIntervalMs: 60_000,
          });
          const record = (key: string) => ({ key, value: "{}", headers: {} });
          await publisher.publish([record("warm")], { timeoutMs: 10_000 });

          const settled: string[] = [];
          broker.pause();
          let first, second;
          try {
            const publish = (key: string) =>
              publisher.publish([record(key)], {
                timeoutMs: 500,
                onSettled: () => settled.push(key),
              }).then(() => undefined, (error) => error);
            const underWay = publish("under-way");
            // Its send has started (and hangs on the frozen broker); the next one waits behind it.
            await new Promise((resolve) => setTimeout(resolve, 100));
            [first, second] = await Promise.all([underWay, publish("waiting")]);
            await new Promise((resolve) => setTimeout(resolve, 200));
            assert.deepEqual(
              settled,
              ["waiting"],
              "the waiting request was dropped at its timeout",
            );
          } finally {
            broker.resume();
          }
          assert.ok(first instanceof PublishError && second instanceof PublishError);
          assert.equal(first.mayHaveWritten, true);
          assert.match(first.message, /while their send was under way/);
          assert.equal(second.mayHaveWritten, false);
          assert.match(second.message, /were not sent/);
          await until("the send under way ended", () => settled.includes("under-way"), 20_000);
          const keys = (await readCommitted(broker.bootstrap, topic)).map((r) => r.key).sort();
          assert.deepEqual(
            keys,
            ["under-way", "warm"],
            "the ambiguous one was written, the dropped one not",
          );
        },
      );

      await t.step(
        "producer process: 50 concurrent requests of 100 payments on a budget of 500",
        async () => {
          await using producer = await startService("producer", {
            env: serviceEnv(broker.bootstrap, topics, {
              PRODUCER_MAX_INFLIGHT_PAYMENTS: "500",
              // Neither the send nor kafkajs may give up while the broker is frozen.
              PRODUCER_SEND_TIMEOUT_MS: "60000",
              KAFKA_REQUEST_TIMEOUT_MS: "60000",
              LAG_MONITOR_ENABLED: "false",
              LOG_LEVEL: "warning",
            }),
          });
          // Connected, metadata known: the burst's sends need nothing but the frozen broker.
          assert.equal((await postBatch(producer.url, batchBody("WARM", 1), -1)).status, 202);

          const answers: Answer[] = [];
          let burst: Promise<Answer[]> | undefined;
          broker.pause();
          try {
            burst = Promise.all(
              Array.from(
                { length: 50 },
                (_, i) =>
                  postBatch(producer.url, batchBody(`B${i}`, 100), i).then((answer) => {
                    answers.push(answer);
                    return answer;
                  }),
              ),
            );
            // 500 payments fit; nothing admitted can finish while the broker is frozen.
            await until("45 answers", () => answers.length >= 45, 60_000);
            await new Promise((resolve) => setTimeout(resolve, 300));
            assert.equal(answers.length, 45, "exactly the 5 admitted requests are still waiting");
            assert.ok(answers.every(isShed), JSON.stringify(answers.filter((a) => !isShed(a))));
            const health = await fetch(`${producer.url}/health`);
            assert.equal(health.status, 200);
            await health.body?.cancel();
            const text = await metricsText(producer);
            assert.equal(metricValue(text, "producer_inflight_payments"), 500);
            assert.equal(metricValue(text, "producer_inflight_payments_limit"), 500);
          } finally {
            broker.resume();
          }
          const all = await burst;
          const shed = all.filter(isShed);
          const admitted = all.filter((a) => a.status === 202);
          assert.equal(admitted.length, 5);
          assert.equal(shed.length, 45);
          for (const answer of shed) {
            assert.equal(answer.retryAfter, "5");
            assert.match(answer.problem?.detail ?? "", /nothing of it was written/);
          }

          const keys = (await readCommitted(broker.bootstrap, topics.requests)).map((r) => r.key);
          const expected = [
            "WARM-0",
            ...admitted.flatMap((a) => Array.from({ length: 100 }, (_, i) => `B${a.index}-${i}`)),
          ];
          assert.deepEqual(
            keys.sort(),
            expected.sort(),
            "the topic holds exactly the admitted payments",
          );

          const text = await metricsText(producer);
          assert.equal(metricSum(text, "http_requests_shed_total"), 45);
          assert.match(
            text,
            /http_requests_shed_total\{handler="\/payments\/batch",reason="inflight_full"[^}]*\} 45\n/,
          );
          assert.equal(metricValue(text, "producer_inflight_payments"), 0);
          const lint = await checkMetrics(text);
          assert.equal(lint.code, 0, lint.output);
          assert.equal(lint.output.trim(), "");
          reportFigures("overload with a 500-payment budget", {
            requests: 50,
            admitted: admitted.length,
            shed: shed.length,
          });
        },
      );
    })(),
    240_000,
    "overload with a frozen broker",
  );
});

Deno.test("through a burst of 3,000 concurrent requests the producer stays within its memory bound, /health answers, and only admitted payments are written", async () => {
  const brokers = sharedBrokers();
  const topics = await createPipelineTopics(brokers, "overload-burst");
  await withTimeout(
    (async () => {
      await using producer = await startService("producer", {
        env: serviceEnv(brokers.join(","), topics, {
          LOG_LEVEL: "warning",
          LAG_MONITOR_ENABLED: "false",
        }),
      });
      for (let i = 0; i < 20; i++) {
        assert.equal((await postBatch(producer.url, batchBody(`WARM${i}`, 100), -1)).status, 202);
      }
      const before = await recordsHeld(brokers, topics.requests);
      const baseline = await memory(producer.pid);

      const requests = 3000;
      const bodies = Array.from({ length: requests }, (_, i) => batchBody(`R${i}`, 100));
      let done = false;
      const health: number[] = [];
      const watch = (async () => {
        while (!done) {
          const started = performance.now();
          const response = await fetch(`${producer.url}/health`);
          await response.body?.cancel();
          health.push(response.status === 200 ? performance.now() - started : -response.status);
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      })();
      const answers = await Promise.all(bodies.map((body, i) => postBatch(producer.url, body, i)));
      done = true;
      await watch;
      const after = await memory(producer.pid);

      const admitted = answers.filter((a) => a.status === 202);
      const shed = answers.filter(isShed);
      assert.deepEqual(
        answers.filter((a) => a.status !== 202 && !isShed(a)).slice(0, 3),
        [],
        "every answer is 202 or 503 overloaded",
      );
      assert.ok(shed.length > 0, "3,000 requests at once exceed the default budgets");
      assert.ok(admitted.length > 0);
      assert.ok(health.length > 0 && health.every((ms) => ms >= 0), `health: ${health}`);
      assert.equal(
        await recordsHeld(brokers, topics.requests) - before,
        admitted.length * 100,
        "the topic holds exactly the admitted payments",
      );
      const text = await metricsText(producer);
      assert.equal(metricSum(text, "http_requests_shed_total"), shed.length);

      const mb = (bytes: number) => Math.round(bytes / 1024 / 1024);
      const growth = after.peak - baseline.rss;
      reportFigures("overload burst", {
        requests,
        admitted: admitted.length,
        shed: shed.length,
        rss_baseline_mb: mb(baseline.rss),
        rss_peak_mb: mb(after.peak),
        peak_growth_mb: mb(growth),
        health_checks: health.length,
        health_max_ms: Math.round(Math.max(...health)),
      });
      // The bound README.md documents for the default budgets: what the budgets hold plus
      // garbage not yet collected, and Deno's and the app's cost per concurrent request,
      // which no budget bounds (Deno.serve has no connection limit).
      const bound = 150 * 1024 * 1024 + requests * 64 * 1024;
      assert.ok(
        growth <= bound,
        `peak RSS ${mb(after.peak)} MB, ${mb(growth)} MB above ${mb(baseline.rss)} MB idle ` +
          `(bound ${mb(bound)} MB)`,
      );
    })(),
    180_000,
    "overload burst",
  );
});
