/**
 * The end-to-end probe turns red when the consumer stops, while no client sends
 * anything: a producer probing every 500 ms, its consumer stopped and started again,
 * and a real Prometheus with the real alerts.yml scraping the producer every second.
 */
import assert from "node:assert/strict";
import { sampleValue } from "@payments/testing/metrics_text";
import { startPrometheus } from "@payments/testing/prometheus";
import { startConsumer, startService } from "@payments/testing/services";
import { testKafka } from "@payments/testing/test_kafka";
import { deleteTopics } from "@payments/testing/topics";
import { eventually } from "@payments/testing/wait";
import { loadAlertRules, repoPath } from "./sources.ts";

const KEY = "probe-test-key";

Deno.test("the probe records decisions while the consumer runs, fails with the reason once it stops, PipelineProbeFailing goes pending, and the probe recovers", async () => {
  const [rule] = (await loadAlertRules()).filter((r) => r.alert === "PipelineProbeFailing");
  assert.ok(rule, "alerts.yml has PipelineProbeFailing");
  await using t = await testKafka("probe", 3);
  try {
    await using consumer = await startConsumer(t);
    await using producer = await startService("producer", {
      brokers: t.brokers,
      topics: t.topics,
      groupId: t.groupId,
      env: {
        // The probe authenticates like a client when keys are set.
        API_KEYS: KEY,
        PROBE_INTERVAL_MS: "500",
        PROBE_TIMEOUT_MS: "1500",
        LAG_MONITOR_ENABLED: "false",
      },
    });
    await using prometheus = await startPrometheus({
      global: { scrape_interval: "1s", scrape_timeout: "1s", evaluation_interval: "1s" },
      rule_files: [repoPath("prometheus/alerts.yml")],
      scrape_configs: [{
        job_name: "payment-producer",
        static_configs: [{ targets: [`127.0.0.1:${producer.port}`] }],
      }],
    });
    const context = () =>
      `--- producer ---\n${producer.tail(20)}\n--- consumer ---\n${consumer.tail(10)}\n` +
      `--- prometheus ---\n${prometheus.tail(10)}`;
    const metrics = async () => await (await fetch(`${producer.url}/metrics`)).text();
    const successes = async () =>
      sampleValue(await metrics(), "pipeline_probe_duration_seconds_count") ?? 0;
    const failures = async (reason: string) =>
      sampleValue(await metrics(), "pipeline_probe_failures_total", { reason }) ?? 0;
    const until = (what: string, check: () => Promise<boolean>) =>
      eventually(check, 60_000, what, { intervalMs: 250, context });

    // Green: probes get their decisions, and Prometheus has seen them.
    await until("three successful probes", async () => await successes() >= 3);
    const text = await metrics();
    for (const reason of ["status_unavailable", "not_decided", "submit_rejected"]) {
      assert.equal(sampleValue(text, "pipeline_probe_failures_total", { reason }), 0, reason);
    }
    // The probe's requests are in no client metric.
    assert.equal(
      sampleValue(text, "http_requests_total", { method: "POST", handler: "/payments" }),
      0,
    );
    assert.equal(
      sampleValue(text, "payments_produced_total", {
        status: "success",
        batch_size_range: "single",
      }),
      0,
    );
    await until("Prometheus scraped a successful probe", async () => {
      const answer = await prometheus.query("pipeline_probe_duration_seconds_count > 0");
      return answer.result.length === 1;
    });

    // Red: no consumer, so no instance owns the probe payments' tasks.
    assert.equal(await consumer.stop(), 0, consumer.tail());
    await until(
      "probes failing with status_unavailable",
      async () => await failures("status_unavailable") >= 2,
    );
    const decidedBefore = await successes();
    await until("more failures", async () => await failures("status_unavailable") >= 4);
    assert.equal(await successes(), decidedBefore, "no probe got a decision meanwhile");
    await until("PipelineProbeFailing pending", async () => {
      const answer = await prometheus.query(
        `ALERTS{alertname="PipelineProbeFailing",instance="127.0.0.1:${producer.port}"}`,
      );
      return answer.result.some((s) => s.metric.alertstate === "pending");
    });
    const expression = await prometheus.query(rule.expr);
    assert.equal(expression.result.length, 1, "the alert's expression is true for the producer");
    assert.ok(Number(expression.result[0]!.value[1]) > 0.5);

    // Green again: a new consumer takes the group and the probe gets decisions.
    await using _again = await startConsumer(t);
    await until("probes decided again", async () => await successes() > decidedBefore + 2);
  } finally {
    await deleteTopics(t.brokers, Object.values(t.topics));
  }
});
