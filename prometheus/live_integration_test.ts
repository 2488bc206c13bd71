import assert from "node:assert/strict";
import { OTEL_TEST_ENV } from "@payments/testing/otel_rerun";
import { freePort, sharedBrokers } from "@payments/testing/brokers";
import { produceWithKcat } from "@payments/testing/kcat";
import { type PrometheusServer, startPrometheus } from "@payments/testing/prometheus";
import { type ServiceProcess as Service, startService } from "@payments/testing/services";
import { startAll } from "@payments/testing/start_all";
import { createTopics, deleteTopics, uniqueTopics } from "@payments/testing/topics";
import { waitFor } from "@payments/testing/wait";
import { substituteVariables } from "./grafana_variables.ts";
import {
  dashboardExpressions,
  loadAllAlertRules,
  loadDashboards,
  loadRuleGroups,
  repoPath,
} from "./sources.ts";
import { parseYaml } from "@payments/testing/tool";

const JOBS = ["payment-producer", "payment-consumer"];
const BLOCKED_MERCHANT = "M-BLOCKED-LIVE";

/**
 * The values Grafana would put into the dashboards' variables, made stricter where
 * that proves more:
 * - `job`: the dashboards' "All" sends `.*`, which also matches Prometheus' own job,
 *   and Prometheus exports `process_*` metrics itself, so a panel could pass on its
 *   data alone. Our two services' jobs make every panel prove the services export it.
 * - `instance`: "All" sends the variable's allValue `.*`; `job` already narrows it.
 * - `__rate_interval`: Grafana uses max($__interval + scrape interval, 4 x scrape
 *   interval), at least 4 s with this test's 1 s scrapes. `1m` spans the whole run
 *   (traffic, then waiting for scrapes), as a dashboard looking at the last minutes of
 *   a running system does; a 4 s window would show gaps between bursts of traffic.
 * - `__interval` / `__range`: a panel's step and the time range, for queries that use them.
 */
const VARIABLES = {
  job: JOBS.join("|"),
  instance: ".*",
  __rate_interval: "1m",
  __interval: "15s",
  __range: "1m",
};

interface PrometheusConfig {
  global?: Record<string, unknown>;
  rule_files: string[];
  alerting?: unknown;
  scrape_configs: { job_name: string; [key: string]: unknown }[];
}

/**
 * The real prometheus.yml with 1 s intervals, loopback targets (`targets[job]` for the
 * services, the test's own Prometheus for any other job: itself) and no Alertmanager
 * (alert_delivery_integration_test.ts has one); and its rule files, to be written beside
 * it, with every group evaluated at the test's 1 s (the 30-day SLO group's 5m would leave
 * its panels empty for minutes).
 */
async function testConfig(
  targets: Record<string, string>,
): Promise<{ config: PrometheusConfig; files: Record<string, string> }> {
  const real = parseYaml(
    await Deno.readTextFile(repoPath("prometheus/prometheus.yml")),
  ) as PrometheusConfig;
  const missing = Object.keys(targets).filter((job) =>
    !real.scrape_configs.some((c) => c.job_name === job)
  );
  assert.deepEqual(missing, [], "prometheus.yml must scrape these jobs");
  const files: Record<string, string> = {};
  for (const file of real.rule_files) {
    const groups = (await loadRuleGroups(file)).map(({ interval: _, ...group }) => group);
    files[file] = JSON.stringify({ groups });
  }
  const { alerting: _, ...withoutAlerting } = real;
  const config = {
    ...withoutAlerting,
    global: {
      ...real.global,
      scrape_interval: "1s",
      scrape_timeout: "1s",
      evaluation_interval: "1s",
    },
    // The test's own loopback targets, in place of compose's names (static or DNS).
    scrape_configs: real.scrape_configs.map(({ dns_sd_configs: _, ...job }) => ({
      ...job,
      static_configs: [{ targets: [targets[job.job_name] ?? "127.0.0.1:{{PORT}}"] }],
    })),
  };
  return { config, files };
}

/** POSTs JSON (or a raw body) to the producer; returns the status, body consumed. */
async function post(url: string, body: unknown): Promise<number> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  await response.body?.cancel();
  return response.status;
}

const hex = (bytes: number) =>
  Array.from(crypto.getRandomValues(new Uint8Array(bytes)), (b) => b.toString(16).padStart(2, "0"))
    .join("");

/**
 * POSTs one payment with a `traceparent` of trace `tag.traceId` and the correlation id
 * `tag.correlationId` (fresh ones by default); returns both ids.
 */
async function sendTaggedPayment(
  producerUrl: string,
  tag = { traceId: hex(16), correlationId: `exemplar-${crypto.randomUUID()}` },
) {
  const { traceId, correlationId } = tag;
  const response = await fetch(`${producerUrl}/payments`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      traceparent: `00-${traceId}-${hex(8)}-01`,
      "x-correlation-id": correlationId,
    },
    body: JSON.stringify({
      payment_id: `P-${correlationId}-${hex(4)}`,
      amount: 12.5,
      merchant_id: "M-EXEMPLAR",
      customer_id: "C-EXEMPLAR",
    }),
  });
  await response.body?.cancel();
  assert.equal(response.status, 202, "the tagged payment is accepted");
  return { traceId, correlationId };
}

/** Sends valid, invalid, declined and duplicate payments; returns how many were accepted. */
async function driveTraffic(producerUrl: string): Promise<number> {
  const run = crypto.randomUUID().slice(0, 8);
  let n = 0;
  const payment = (fields: Record<string, unknown> = {}) => {
    n++;
    return {
      payment_id: `P-${run}-${n}`,
      amount: 10 + n,
      merchant_id: `M-${n % 5}`,
      customer_id: `C-${run}-${n}`,
      currency: "USD",
      ...fields,
    };
  };
  const statuses: [string, number, number][] = []; // [what, expected, actual]
  let accepted = 0;
  const send = async (what: string, path: string, body: unknown, expected: number, count = 0) => {
    const status = await post(`${producerUrl}${path}`, body);
    statuses.push([what, expected, status]);
    if (status === 202) accepted += count;
  };
  for (const size of [25, 10, 1]) {
    const payments = Array.from({ length: size }, () => payment());
    await send(`batch of ${size}`, "/payments/batch", { payments }, 202, size);
  }
  const repeated = payment();
  await send("single", "/payments", repeated, 202, 1);
  for (let i = 0; i < 5; i++) await send("single", "/payments", payment(), 202, 1);
  await send("duplicate payment_id", "/payments", repeated, 202, 1);
  await send("blocked merchant", "/payments", payment({ merchant_id: BLOCKED_MERCHANT }), 202, 1);
  await send("over the limit", "/payments", payment({ amount: 7500 }), 202, 1);
  await send("negative amount", "/payments", payment({ amount: -1 }), 400);
  await send("malformed JSON", "/payments", "{not json", 400);
  await send("missing fields", "/payments/batch", { payments: [{ amount: 1 }] }, 400);
  const twin = payment();
  await send("batch duplicate ids", "/payments/batch", { payments: [twin, twin] }, 400);
  assert.deepEqual(
    statuses.filter(([, expected, actual]) => expected !== actual),
    [],
    "the producer answered these requests unexpectedly ([what, expected, actual])",
  );
  return accepted;
}

Deno.test("on live services a payment's exemplar comes back from Prometheus, every dashboard query returns data and every rule evaluates", async () => {
  const brokers = sharedBrokers();
  const topics = uniqueTopics("prometheus-live");
  const groupId = `prometheus-live-${crypto.randomUUID().slice(0, 8)}`;
  const ports = { producer: freePort("127.0.0.1"), consumer: freePort("127.0.0.1") };
  const { config, files } = await testConfig({
    "payment-producer": `127.0.0.1:${ports.producer}`,
    "payment-consumer": `127.0.0.1:${ports.consumer}`,
  });
  // Traced, everything sampled, exported nowhere: the caller's traceparent then reaches
  // the exemplars through Deno's server span and the records' headers.
  const common = {
    brokers,
    topics,
    groupId,
    env: { LAG_MONITOR_INTERVAL_MS: "1000", ...OTEL_TEST_ENV },
  };
  // The producer's end-to-end probe, so its panels have probes to show.
  const probe = { PROBE_INTERVAL_MS: "2500", PROBE_TIMEOUT_MS: "5000" };
  await createTopics(brokers, topics, 6);
  let running: [Service, Service, PrometheusServer] | undefined;
  try {
    running = await startAll(
      [
        startService("producer", {
          ...common,
          port: ports.producer,
          env: { ...common.env, ...probe },
        }),
        startService("consumer", {
          ...common,
          port: ports.consumer,
          env: { ...common.env, CONSUMER_BLOCKED_MERCHANTS: BLOCKED_MERCHANT },
        }),
        startPrometheus(config, { files }),
      ] as const,
    );
    const [producer, consumer, prometheus] = running;
    const context = () =>
      `--- producer ---\n${producer.tail()}\n--- consumer ---\n${consumer.tail()}\n` +
      `--- prometheus ---\n${prometheus.tail()}`;
    const value = async (expr: string) => {
      const answer = await prometheus.query(expr);
      return Number(answer.result[0]?.value[1] ?? NaN);
    };

    const scrapedTwice = async () =>
      await value(`min(count_over_time(up{job=~"${VARIABLES.job}"}[1m]))`) >= 2 &&
      await value(`count(up{job=~"${VARIABLES.job}"} == 1)`) === JOBS.length;
    // Counters need a sample from before the traffic, or rate() sees no increase.
    await waitFor({ "2 scrapes of each service before traffic": scrapedTwice }, 15_000, context);

    // Exemplars: a payment with its own trace and correlation ids; Prometheus must hand
    // both back for the producer's request and the consumer's processing of it. A
    // bucket's exemplar is its last observation, and the producer's probe has the
    // consumer decide payments of its own in the same buckets: the tagged payment is
    // sent again, same ids, until Prometheus has scraped them, at random intervals (at
    // fixed ones, the probe's and the scrapes' periods can replace it every time).
    const tagged = await sendTaggedPayment(producer.url);
    let resendAt = Date.now() + 1500 + Math.random() * 3000;
    const carriesTagged = (series: string) => async () => {
      if (Date.now() > resendAt) {
        await sendTaggedPayment(producer.url, tagged);
        resendAt = Date.now() + 1500 + Math.random() * 3000;
      }
      return await seen(series);
    };
    const seen = async (series: string) =>
      (await prometheus.exemplars(series)).some((s) =>
        s.exemplars.some((e) =>
          e.labels.trace_id === tagged.traceId && e.labels.correlation_id === tagged.correlationId
        )
      );
    await waitFor(
      Object.fromEntries(
        [
          'http_request_duration_seconds_bucket{job="payment-producer",handler="/payments"}',
          'end_to_end_latency_seconds_bucket{job="payment-consumer"}',
          'message_processing_duration_seconds_bucket{job="payment-consumer"}',
        ].map((series) => [`the tagged payment's exemplar on ${series}`, carriesTagged(series)]),
      ),
      30_000,
      context,
    );

    const accepted = await driveTraffic(producer.url);
    // Poison straight onto the topic, as a misbehaving client would write it.
    await produceWithKcat(brokers.join(","), topics.requests, [
      { key: "K-BAD", value: "{not json" },
      { key: "K-WRONG", value: '{"payment_id":"X","amount":-5}' },
      { key: "K-NULL", value: null },
    ], { partition: 0 });

    const consumerJob = 'job="payment-consumer"';
    await waitFor(
      {
        [`${accepted} payment results`]: async () =>
          await value(`sum(payment_results_total{${consumerJob}})`) >= accepted,
        "3 dead letters": async () =>
          await value(`sum(dead_letter_messages_total{${consumerJob}})`) >= 3,
        "a declined and a duplicate payment": async () =>
          await value(`sum(payment_results_total{${consumerJob},outcome="DECLINED"})`) >= 2 &&
          await value(`sum(payment_results_total{${consumerJob},outcome="DUPLICATE"})`) >= 1,
        "5 scrapes of each service": async () =>
          await value(`min(count_over_time(up{job=~"${VARIABLES.job}"}[1m]))`) >= 5 &&
          await value(`count(up{job=~"${VARIABLES.job}"} == 1)`) === JOBS.length,
        "successful probes": async () =>
          await value(`sum(pipeline_probe_duration_seconds_count{job="payment-producer"})`) >= 3,
        "every alert rule evaluated": async () =>
          (await prometheus.rules()).every((g) => g.rules.every((r) => r.health !== "unknown")),
      },
      30_000,
      context,
    );

    const problems: string[] = [];
    const expressions = dashboardExpressions(await loadDashboards());
    assert.ok(expressions.length > 0, "the dashboards hold no query");
    for (const { where, expr } of expressions) {
      const query = substituteVariables(expr, VARIABLES);
      const answer = await prometheus.query(query);
      if (answer.status !== "success") {
        problems.push(`${where}: does not evaluate (${answer.error}): ${query}`);
      } else if (answer.result.length === 0) {
        problems.push(`${where}: No data: ${query}`);
      } else if (!answer.result.some((s) => Number.isFinite(Number(s.value[1])))) {
        problems.push(`${where}: only NaN/Inf in ${answer.result.length} series: ${query}`);
      }
    }
    const rules = await loadAllAlertRules();
    assert.ok(rules.length > 0, "the rule files hold no alert");
    for (const { alert, expr } of rules) {
      const answer = await prometheus.query(expr);
      if (answer.status !== "success") {
        problems.push(`alert ${alert}: does not evaluate (${answer.error}): ${expr}`);
      }
    }
    const groups = await prometheus.rules();
    for (const group of groups) {
      for (const rule of group.rules) {
        if (rule.health !== "ok") {
          problems.push(
            `rule group ${group.name} / ${rule.name}: health ${rule.health}` +
              (rule.lastError ? ` (${rule.lastError})` : ""),
          );
        }
      }
    }
    const ruleCount = Object.values(files).reduce(
      (n, text) =>
        n + (JSON.parse(text) as { groups: { rules: unknown[] }[] }).groups
          .reduce((m, g) => m + g.rules.length, 0),
      0,
    );
    assert.equal(
      groups.flatMap((g) => g.rules).length,
      ruleCount,
      "Prometheus loaded every alerting and recording rule of the rule files",
    );
    assert.deepEqual(
      problems,
      [],
      `Expressions that fail on live services:\n${problems.join("\n")}`,
    );
  } finally {
    if (running) {
      await Promise.all(running.map((r) => r[Symbol.asyncDispose]()));
    }
    await deleteTopics(brokers, [topics.requests, topics.results, topics.dlq]);
  }
});
