/**
 * Alerts seen in `deno task dev`: a record the consumer cannot read is dead-lettered,
 * the project's DeadLettersArriving rule fires in the dev Prometheus, the dev
 * Alertmanager routes it by the project's routing (a warning goes to `ticket`), and
 * its line appears in the dev output with severity, summary and runbook.
 */
import { topicsEnv } from "@payments/shared/topics";
import assert from "node:assert/strict";
import { freePort, sharedBrokers } from "@payments/testing/brokers";
import { produceWithKcat } from "@payments/testing/kcat";
import { createTopics, deleteTopics, uniqueTopics } from "@payments/testing/topics";
import { devJaegerEnv, startDev, waitUntilOk } from "./dev_support.ts";

/** Waits until Prometheus has scraped the consumer's dead-letter counter (still 0). */
async function scraped(prometheusPort: number, timeoutMs = 90_000): Promise<void> {
  const query = encodeURIComponent('dead_letter_messages_total{job="payment-consumer"}');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const response = await fetch(
        `http://127.0.0.1:${prometheusPort}/api/v1/query?query=${query}`,
        { signal: AbortSignal.timeout(5000) },
      );
      const body = await response.json();
      if (body.data?.result?.length > 0) return;
    } catch { /* not up yet */ }
    if (Date.now() > deadline) throw new Error("Prometheus never scraped the consumer");
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

Deno.test({
  name:
    "deno task dev prints a firing alert as one line (name, severity, receiver, summary, runbook) once a record is dead-lettered",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const brokers = sharedBrokers();
    const topics = uniqueTopics("dev-alerts");
    await createTopics(brokers, topics, 1);
    const dataDir = await Deno.makeTempDir({ prefix: "payments-dev-alerts-" });
    const ports = {
      producer: freePort("127.0.0.1"),
      consumer: freePort("127.0.0.1"),
      prometheus: freePort("127.0.0.1"),
      alertmanager: freePort("127.0.0.1"),
    };
    const { LOG_FORMAT: _format, ...inherited } = Deno.env.toObject();
    const dev = startDev([], {
      ...inherited,
      KAFKA_BROKERS: brokers.join(","),
      ...topicsEnv(topics),
      CONSUMER_GROUP_ID: `dev-alerts-${crypto.randomUUID().slice(0, 8)}`,
      CONSUMER_STATE_DIR: `${dataDir}/consumer-state`,
      PRODUCER_PORT: String(ports.producer),
      CONSUMER_PORT: String(ports.consumer),
      PROMETHEUS_PORT: String(ports.prometheus),
      PROMETHEUS_DATA_DIR: `${dataDir}/prometheus`,
      ALERTMANAGER_PORT: String(ports.alertmanager),
      ALERTMANAGER_DATA_DIR: `${dataDir}/alertmanager`,
      DEV_LOG_DIR: `${dataDir}/logs`,
      LAG_MONITOR_ENABLED: "false",
      ...devJaegerEnv(dataDir).env,
    });
    try {
      await dev.waitForLine(
        new RegExp(`Alertmanager http://localhost:${ports.alertmanager} .*\\[alerts\\] lines`),
      );
      await waitUntilOk(`http://127.0.0.1:${ports.consumer}/ready`);
      await waitUntilOk(`http://127.0.0.1:${ports.alertmanager}/-/ready`);
      // The counter is scraped at 0 first, so the dead letter is an increase.
      await scraped(ports.prometheus);
      await produceWithKcat(brokers.join(","), topics.requests, [
        { key: "DEV-ALERT-1", value: "{not json" },
      ]);

      // Scrape and rule evaluation every 15 s, then the ticket route's 30 s group_wait.
      const line = await dev.waitForLine(/^\[alerts\] +FIRING DeadLettersArriving/, 180_000);
      assert.equal(
        line.replace(/^\[alerts\] +/, ""),
        "FIRING DeadLettersArriving (warning, to ticket): Messages are being dead-lettered " +
          "(reason invalid_json); runbook docs/runbook.md#deadlettersarriving",
      );
      assert.equal(await dev.interrupt(), 0, dev.lines().slice(-30).join("\n"));
    } finally {
      await dev.interrupt();
      await deleteTopics(brokers, [topics.requests, topics.results, topics.dlq]);
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    }
  },
});
