/**
 * A consumer kafkajs stops for good is loud: the crash is injected through a real
 * dependency, the consumer group. A kcat (librdkafka) consumer holds the group with its
 * `range` assignor; kafkajs joins with `RoundRobinAssigner`, the broker refuses it with
 * INCONSISTENT_GROUP_PROTOCOL (not retriable) and kafkajs gives up for good. That is
 * what happens when another application is deployed with our CONSUMER_GROUP_ID.
 */
import assert from "node:assert/strict";
import { sharedBrokers } from "@payments/testing/brokers";
import { testClient } from "@payments/testing/kafka";
import { sampleValue } from "@payments/testing/metrics_text";
import { startPrometheus } from "@payments/testing/prometheus";
import { startService } from "@payments/testing/services";
import { createPipelineTopics, deleteTopics } from "@payments/testing/topics";
import { eventually } from "@payments/testing/wait";
import { loadAlertRules, repoPath } from "./sources.ts";

/** Polls `check` every 250 ms until it returns true; fails with `what` and `context()`. */
async function until(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs: number,
  context: () => string,
) {
  await eventually(check, timeoutMs, what, { intervalMs: 250, context });
}

/** A kcat balanced consumer in `group`; resolves once the group is Stable with it. */
async function kcatHoldsGroup(brokers: string[], topic: string, group: string) {
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command("kcat", {
      args: ["-b", brokers.join(","), "-G", group, "-q", topic],
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
  } catch (error) {
    throw new Error("kcat is missing: install it with `apt-get install kcat`", { cause: error });
  }
  const stderr = new Response(child.stderr).text();
  const admin = testClient(brokers, { clientId: "crash-test" }).admin();
  await admin.connect();
  try {
    await until(
      "kcat's group is Stable",
      async () => {
        const [described] = (await admin.describeGroups([group])).groups;
        return described?.state === "Stable" && described.protocol === "range";
      },
      30_000,
      () => "",
    );
  } finally {
    await admin.disconnect();
  }
  return {
    async [Symbol.asyncDispose]() {
      try {
        child.kill("SIGTERM");
      } catch { /* gone */ }
      await child.status;
      await stderr;
    },
  };
}

Deno.test("a consumer kafkajs stops for good answers 503, exports state crashed, logs why, and ConsumerCrashed fires in Prometheus", async () => {
  const brokers = sharedBrokers();
  const topics = await createPipelineTopics(brokers, "crashed", { partitions: 2 });
  const group = `${topics.requests}.group`;
  try {
    await using _kcat = await kcatHoldsGroup(brokers, topics.requests, group);
    await using consumer = await startService("consumer", {
      brokers,
      topics,
      groupId: group,
      waitReady: false,
      env: { LAG_MONITOR_ENABLED: "false" },
    });
    const metrics = async () => await (await fetch(`${consumer.url}/metrics`)).text();
    await until(
      "state crashed",
      async () => {
        return sampleValue(await metrics(), "consumer_worker_state", { state: "crashed" }) === 1;
      },
      60_000,
      () => consumer.tail(),
    );

    const ready = await fetch(`${consumer.url}/ready`);
    assert.equal(ready.status, 503);
    assert.equal((await ready.json()).state, "crashed");
    const health = await fetch(`${consumer.url}/health`);
    assert.equal(health.status, 503, "liveness fails so that an orchestrator restarts it");
    assert.equal((await health.json()).status, "unhealthy");
    const text = await metrics();
    assert.equal(sampleValue(text, "consumer_worker_state", { state: "assigned" }), 0);
    assert.equal(sampleValue(text, "consumer_errors_total", { error_type: "crash" }), 1);

    await until(
      "the error line",
      () => {
        return Promise.resolve(consumer.lines().some((l) => l.includes("stopped for good")));
      },
      15_000,
      () => consumer.tail(),
    );
    const lines = consumer.lines().map((l) => JSON.parse(l) as Record<string, unknown>);
    const errors = lines.filter((l) => l.level === "error");
    assert.equal(errors.length, 1, `one error line:\n${consumer.tail()}`);
    assert.equal(errors[0]!.topic, topics.requests);
    assert.equal(errors[0]!.group, group);
    assert.match(String(errors[0]!.cause), /INCONSISTENT_GROUP_PROTOCOL/);
    assert.match(String(errors[0]!.message), /docs\/runbook\.md#consumercrashed/);

    // The real alerts.yml, evaluated every second on the consumer scraped every second.
    const [rule] = (await loadAlertRules()).filter((r) => r.alert === "ConsumerCrashed");
    assert.ok(rule, "alerts.yml has ConsumerCrashed");
    await using prometheus = await startPrometheus({
      global: { scrape_interval: "1s", scrape_timeout: "1s", evaluation_interval: "1s" },
      rule_files: [repoPath("prometheus/alerts.yml")],
      scrape_configs: [{
        job_name: "payment-consumer",
        static_configs: [{ targets: [`127.0.0.1:${consumer.port}`] }],
      }],
    });
    const firing = async () => {
      const answer = await prometheus.query(
        `ALERTS{alertname="ConsumerCrashed",alertstate="firing",job="payment-consumer"}`,
      );
      return answer.result.length === 1;
    };
    await until("ConsumerCrashed firing", firing, 60_000, () => prometheus.tail());
    const expression = await prometheus.query(rule.expr);
    assert.deepEqual(
      expression.result.map((s) => [s.metric.job, s.metric.instance, s.value[1]]),
      [["payment-consumer", `127.0.0.1:${consumer.port}`, "1"]],
      "the alert's expression is true for this consumer",
    );

    assert.equal(await consumer.stop(), 0, "a crashed consumer still stops cleanly on SIGTERM");
  } finally {
    await deleteTopics(brokers, Object.values(topics));
  }
});
