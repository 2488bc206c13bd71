/**
 * Slow consumer: simulated processing latency behind a backlog of two-minute-old
 * payments. The lag monitor's `consumer_lag_seconds` and `consumer_partition_status`
 * show it, and the ConsumerLagSecondsHigh and ConsumerStalled expressions from
 * prometheus/alerts.yml fire in a real Prometheus scraping the consumer every second.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import { startThrowawayBroker } from "@payments/testing/brokers";
import { testClient } from "@payments/testing/kafka";
import { paymentEvent } from "@payments/testing/payments";
import { produce } from "@payments/testing/produce";
import { startPrometheus } from "@payments/testing/prometheus";
import { reportFigures } from "@payments/testing/report";
import { serviceEnv, startService } from "@payments/testing/services";
import { createPipelineTopics } from "@payments/testing/topics";
import { withTimeout } from "@payments/testing/wait";
import { sleep } from "./support.ts";

const ALERTS = fileURLToPath(new URL("../prometheus/alerts.yml", import.meta.url));
const WANTED = ["ConsumerLagSecondsHigh", "ConsumerStalled"];

interface Rule {
  alert?: string;
  expr: string;
  for?: string;
}

/** The wanted rules exactly as in alerts.yml, except `for: 0s` so a test need not wait 2 m. */
async function wantedRules() {
  const file = parse(await Deno.readTextFile(ALERTS)) as { groups: { rules: Rule[] }[] };
  const rules = file.groups.flatMap((g) => g.rules).filter((r) => WANTED.includes(r.alert ?? ""));
  assert.deepEqual(rules.map((r) => r.alert).sort(), [...WANTED].sort(), "rules in alerts.yml");
  return {
    groups: [{ name: "chaos", interval: "1s", rules: rules.map((r) => ({ ...r, for: "0s" })) }],
  };
}

Deno.test("a slow consumer behind old payments shows lag seconds and a stalled partition, and both alerts fire in Prometheus", async () => {
  await withTimeout(
    (async () => {
      const rules = await wantedRules();
      await using broker = await startThrowawayBroker({ topics: [] });
      const brokers = [broker.bootstrap];
      const topics = await createPipelineTopics(brokers, "slow", { partitions: 1 });
      const createdAt = Date.now() - 120_000;
      const backlog = Array.from({ length: 30 }, (_, i) =>
        paymentEvent({
          payment_id: `SLOW-${createdAt}-${i}`,
          customer_id: `C-${i}`,
          created_at: new Date(createdAt + i).toISOString(),
          correlation_id: `slow-${i}`,
          source: "chaos",
        }));
      // Record timestamps two minutes old: what the lag monitor measures lag seconds by.
      await produce({ kafka: testClient(brokers, { clientId: "slow" }), topics }, backlog, {
        timestampFromCreatedAt: true,
      });

      const group = `${topics.requests}.group`;
      await using consumer = await startService("consumer", {
        env: serviceEnv(broker.bootstrap, topics, {
          CONSUMER_GROUP_ID: group,
          // Longer than the 30 s a payment takes, so the member stays in the group (alive
          // but slow: "stall"); a shorter one would also expire it ("stop").
          CONSUMER_SESSION_TIMEOUT_MS: "45000",
          // One payment per 30 s transaction: the committed offset stands still.
          CONSUMER_SIMULATED_LATENCY_MS: "30000",
          CONSUMER_MAX_RECORDS_PER_TRANSACTION: "1",
          CONSUMER_SHUTDOWN_TIMEOUT_MS: "3000",
          LAG_MONITOR_ENABLED: "true",
          LAG_MONITOR_INTERVAL_MS: "1000",
          LOG_LEVEL: "warning",
        }),
      });
      await using prometheus = await startPrometheus({
        global: { scrape_interval: "1s", evaluation_interval: "1s", scrape_timeout: "900ms" },
        // Relative to the configuration file, which startPrometheus writes beside it.
        rule_files: ["rules.yml"],
        scrape_configs: [{
          job_name: "payment-consumer",
          static_configs: [{ targets: [`127.0.0.1:${consumer.port}`] }],
        }],
      }, { files: { "rules.yml": JSON.stringify(rules) } });

      const started = Date.now();
      const firing = new Map<string, number>();
      const statuses: string[] = [];
      while (
        Date.now() - started < 60_000 &&
        (firing.size < WANTED.length || !statuses.includes("stall"))
      ) {
        const now = await prometheus.query(`consumer_partition_status{group="${group}"} == 1`);
        const current = now.result[0]?.metric.status;
        if (current && statuses[statuses.length - 1] !== current) statuses.push(current);
        for (const alert of await prometheus.alerts()) {
          if (alert.state === "firing" && !firing.has(alert.labels.alertname!)) {
            firing.set(alert.labels.alertname!, Date.now() - started);
          }
        }
        await sleep(1000);
      }
      const lag = await prometheus.query(`max(consumer_lag_seconds{group="${group}"})`);
      const lagSeconds = Number(lag.result[0]?.value[1]);
      reportFigures("slow consumer", {
        lag_seconds: Math.round(lagSeconds),
        statuses_seen: statuses.join(" -> "),
        lag_alert_firing_after_ms: firing.get("ConsumerLagSecondsHigh") ?? null,
        stalled_alert_firing_after_ms: firing.get("ConsumerStalled") ?? null,
      });
      assert.ok(lagSeconds > 60, `consumer_lag_seconds ${lagSeconds}`);
      assert.ok(statuses.includes("stall"), `the partition is rated stall: ${statuses}`);
      assert.deepEqual([...firing.keys()].sort(), [...WANTED].sort(), "alerts firing");
      assert.equal(consumer.hasExited, false);
    })(),
    150_000,
    "slow consumer scenario",
  );
});
