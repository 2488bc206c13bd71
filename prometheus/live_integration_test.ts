import assert from "node:assert/strict";
import { freePort, muteKafkajsTimeoutWarning, sharedBrokers } from "@payments/kafka/harness";
import { type ServiceProcess as Service, startService } from "@payments/testing/services";
import { createTopics, deleteTopics, uniqueTopics } from "@payments/testing/topics";
import { substituteVariables } from "./grafana_variables.ts";
import { type PrometheusServer, startPrometheus } from "./server.ts";
import { dashboardExpressions, loadAlertRules, loadDashboards, repoPath } from "./sources.ts";
import { parseYaml } from "./tool.ts";
import { startAll, waitFor } from "./wait.ts";

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
  scrape_configs: { job_name: string; [key: string]: unknown }[];
}

/**
 * The real prometheus.yml with 1 s intervals, absolute rule files, and loopback targets:
 * `targets[job]` for the services, the test's own Prometheus for any other job (itself).
 */
async function testConfig(targets: Record<string, string>): Promise<PrometheusConfig> {
  const real = parseYaml(
    await Deno.readTextFile(repoPath("prometheus/prometheus.yml")),
  ) as PrometheusConfig;
  const missing = Object.keys(targets).filter((job) =>
    !real.scrape_configs.some((c) => c.job_name === job)
  );
  assert.deepEqual(missing, [], "prometheus.yml must scrape these jobs");
  return {
    ...real,
    global: {
      ...real.global,
      scrape_interval: "1s",
      scrape_timeout: "1s",
      evaluation_interval: "1s",
    },
    rule_files: real.rule_files.map((file) => repoPath(`prometheus/${file}`)),
    scrape_configs: real.scrape_configs.map((job) => ({
      ...job,
      static_configs: [{ targets: [targets[job.job_name] ?? "127.0.0.1:{{PORT}}"] }],
    })),
  };
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

/** Writes `key|value` lines to partition 0 of `topic` with kcat (`-Z`: empty value = null). */
async function kcat(brokers: string[], topic: string, lines: string[]): Promise<void> {
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command("kcat", {
      args: ["-b", brokers.join(","), "-P", "-t", topic, "-p", "0", "-K", "|", "-Z"],
      stdin: "piped",
      stdout: "null",
      stderr: "piped",
    }).spawn();
  } catch (error) {
    throw new Error("kcat is not installed; install it with: apt-get install kcat", {
      cause: error,
    });
  }
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(lines.map((line) => `${line}\n`).join("")));
  await writer.close();
  const { code, stderr } = await child.output();
  assert.equal(code, 0, `kcat: ${new TextDecoder().decode(stderr)}`);
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

Deno.test("on live services every dashboard query returns data and every alert rule evaluates", async () => {
  muteKafkajsTimeoutWarning();
  const brokers = sharedBrokers();
  const topics = uniqueTopics("prometheus-live");
  const groupId = `prometheus-live-${crypto.randomUUID().slice(0, 8)}`;
  const ports = { producer: freePort("127.0.0.1"), consumer: freePort("127.0.0.1") };
  const config = await testConfig({
    "payment-producer": `127.0.0.1:${ports.producer}`,
    "payment-consumer": `127.0.0.1:${ports.consumer}`,
  });
  const common = { brokers, topics, groupId, env: { LAG_MONITOR_INTERVAL_MS: "1000" } };
  await createTopics(brokers, topics, 6);
  let running: [Service, Service, PrometheusServer] | undefined;
  try {
    running = await startAll(
      [
        startService("producer", { ...common, port: ports.producer }),
        startService("consumer", {
          ...common,
          port: ports.consumer,
          env: { ...common.env, CONSUMER_BLOCKED_MERCHANTS: BLOCKED_MERCHANT },
        }),
        startPrometheus(config),
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

    const accepted = await driveTraffic(producer.url);
    // Poison straight onto the topic, as a misbehaving client would write it.
    await kcat(brokers, topics.requests, [
      "K-BAD|{not json",
      'K-WRONG|{"payment_id":"X","amount":-5}',
      "K-NULL|",
    ]);

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
    const rules = await loadAlertRules();
    assert.ok(rules.length > 0, "alerts.yml holds no alert");
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
    assert.equal(
      groups.flatMap((g) => g.rules).length,
      rules.length,
      "Prometheus loaded every rule of alerts.yml",
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
