import assert from "node:assert/strict";
import { parseYaml, runTool } from "@payments/testing/tool";
import { isCatalogued, METRIC_CATALOGUE } from "./catalogue.ts";
import { metricNames } from "./promql.ts";
import {
  dashboardExpressions,
  loadAlertCases,
  loadAlertRules,
  loadAllAlertRules,
  loadDashboards,
  loadRecordingRules,
  repoPath,
  ruleFiles,
} from "./sources.ts";

async function assertToolSucceeds(command: string, args: string[], cwd: string) {
  const result = await runTool(command, args, { cwd });
  assert.ok(
    result.success,
    `${command} ${args.join(" ")} exited with ${result.code}:\n${result.output}`,
  );
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to dashes. */
function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  for (const [, heading] of markdown.matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    anchors.add(
      heading!.toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, "").trim().replace(/\s/g, "-"),
    );
  }
  return anchors;
}

Deno.test("promtool check config accepts prometheus/prometheus.yml and its rule files", async () => {
  await assertToolSucceeds(
    "promtool",
    ["check", "config", "prometheus.yml"],
    repoPath("prometheus/"),
  );
});

Deno.test("promtool check rules accepts prometheus/alerts.yml", async () => {
  await assertToolSucceeds("promtool", ["check", "rules", "alerts.yml"], repoPath("prometheus/"));
});

Deno.test("promtool test rules passes every alert unit test", async () => {
  await assertToolSucceeds(
    "promtool",
    ["test", "rules", "alerts_test.yml"],
    repoPath("prometheus/"),
  );
});

Deno.test("docker-compose validates compose.yaml, including the load-test profile", async () => {
  await assertToolSucceeds(
    "docker-compose",
    ["-f", "compose.yaml", "--profile", "load-test", "config", "-q"],
    repoPath("./"),
  );
});

Deno.test("prometheus.yml scrapes the lab's job names, loads the rule files and sends alerts to Alertmanager", async () => {
  const config = parseYaml(
    await Deno.readTextFile(repoPath("prometheus/prometheus.yml")),
  ) as {
    rule_files: string[];
    scrape_configs: {
      job_name: string;
      static_configs?: { targets: string[] }[];
      dns_sd_configs?: { names: string[]; port: number }[];
    }[];
    alerting: { alertmanagers: { static_configs: { targets: string[] }[] }[] };
    storage: { exemplars: { max_exemplars: number } };
  };
  // A target as host:port, whether listed or found by DNS (the consumer's replicas).
  const jobs = Object.fromEntries(
    config.scrape_configs.map((c) => [c.job_name, [
      ...(c.static_configs ?? []).flatMap((s) => s.targets),
      ...(c.dns_sd_configs ?? []).flatMap((d) => d.names.map((name) => `${name}:${d.port}`)),
    ]]),
  );
  assert.deepEqual(jobs["payment-producer"], ["producer:8000"]);
  assert.deepEqual(jobs["payment-consumer"], ["consumer:8001"]);
  assert.ok(jobs["prometheus"], "Prometheus scrapes itself");
  assert.deepEqual(config.rule_files, ["alerts.yml", "slo_rules.yml"]);
  assert.deepEqual(
    config.alerting.alertmanagers.flatMap((a) => a.static_configs.flatMap((s) => s.targets)),
    ["alertmanager:9093"],
  );
  assert.ok(config.storage.exemplars.max_exemplars > 0, "exemplar storage is bounded");
});

Deno.test("every alert has summary, description and a runbook_url into docs/runbook.md", async () => {
  const rules = await loadAllAlertRules();
  const anchors = headingAnchors(await Deno.readTextFile(repoPath("docs/runbook.md")));
  const problems: string[] = [];
  for (const rule of rules) {
    const annotations = rule.annotations ?? {};
    for (const key of ["summary", "description", "runbook_url"]) {
      if (!annotations[key]?.trim()) problems.push(`${rule.alert}: no ${key}`);
    }
    const match = /^docs\/runbook\.md#([\w-]+)$/.exec(annotations.runbook_url ?? "");
    if (!match) {
      problems.push(`${rule.alert}: runbook_url must be docs/runbook.md#<anchor>`);
    } else if (!anchors.has(match[1]!)) {
      problems.push(`${rule.alert}: docs/runbook.md has no section #${match[1]}`);
    }
    if (!rule.labels?.severity) problems.push(`${rule.alert}: no severity label`);
  }
  assert.deepEqual(problems, []);
});

Deno.test("alerts.yml keeps the lab's eight alerts and adds the nine new ones", async () => {
  const names = (await loadAlertRules()).map((rule) => rule.alert).sort();
  assert.deepEqual(
    names,
    [
      "ConsumerCrashed",
      "ConsumerDown",
      "ConsumerLagSecondsHigh",
      "ConsumerStalled",
      "ConsumerStateRestoreFailing",
      "DeadLettersArriving",
      "EndToEndLatencyHigh",
      "FrequentRebalances",
      "HighAPIErrorRate",
      "HighConsumerLag",
      "HighPaymentErrorRate",
      "HighProcessingLatency",
      "PaymentsDeclinedSpike",
      "PipelineProbeFailing",
      "PipelineProbeSlow",
      "ProducerDown",
      "ProducerKafkaUnavailable",
      "ProducerShedding",
      "PrometheusTargetDown",
    ],
  );
});

Deno.test("every alert has a firing case and a must-not-fire case in alerts_test.yml", async () => {
  const rules = await loadAlertRules();
  const cases = await loadAlertCases();
  const problems: string[] = [];
  for (const { alert } of rules) {
    const mine = cases.filter((c) => c.alertname === alert);
    if (!mine.some((c) => c.firing)) problems.push(`${alert}: no case where it fires`);
    if (!mine.some((c) => !c.firing)) problems.push(`${alert}: no case where it must not fire`);
  }
  const known = new Set(rules.map((rule) => rule.alert));
  for (const c of cases) {
    if (!known.has(c.alertname)) problems.push(`${c.test}: unknown alert ${c.alertname}`);
  }
  assert.deepEqual(problems, []);
});

// The dashboards' data sources, variables, units and filters: grafana/dashboards_test.ts.

Deno.test("the Payment Processing Overview shows everything the issue lists", async () => {
  const overview = (await loadDashboards()).find((d) =>
    d.json.title === "Payment Processing Overview"
  );
  assert.ok(overview);
  const exprs = dashboardExpressions([overview]).map((e) => e.expr).join("\n");
  for (
    const needle of [
      "payments_produced_total",
      "messages_consumed_total",
      "consumer_lag_messages",
      "histogram_quantile(0.5, sum by (le) (rate(message_processing_duration_seconds_bucket",
      "histogram_quantile(0.95, sum by (le) (rate(message_processing_duration_seconds_bucket",
      "histogram_quantile(0.95, sum by (le) (rate(payment_batch_size_bucket",
      "consumer_rebalances_total",
      "histogram_quantile(0.99, sum by (le) (rate(end_to_end_latency_seconds_bucket",
      "sum by (outcome) (rate(payment_results_total",
      "sum by (reason) (rate(dead_letter_messages_total",
      "consumer_lag_seconds",
      "consumer_partition_status",
      "histogram_quantile(0.99, sum by (le) (rate(pipeline_probe_duration_seconds_bucket",
      "sum by (reason) (rate(pipeline_probe_failures_total",
    ]
  ) {
    assert.ok(exprs.includes(needle), `no panel queries ${needle}`);
  }
});

Deno.test("every dashboard and rule expression uses only catalogued metrics and recorded series", async () => {
  const recorded = new Set<string>();
  const expressions = dashboardExpressions(await loadDashboards());
  for (const file of await ruleFiles()) {
    for (const rule of await loadRecordingRules(file)) {
      recorded.add(rule.record);
      expressions.push({ where: `${file} record ${rule.record}`, expr: rule.expr });
    }
  }
  for (const rule of await loadAllAlertRules()) {
    expressions.push({ where: `${rule.file} alert ${rule.alert}`, expr: rule.expr });
  }
  const problems: string[] = [];
  for (const { where, expr } of expressions) {
    const names = metricNames(expr);
    // Only a recording rule may be a constant (an SLO's objective is `vector(0.999)`).
    if (names.length === 0 && !where.includes(" record ")) {
      problems.push(`${where}: selects no metric`);
    }
    for (const name of names) {
      if (!isCatalogued(name) && !recorded.has(name)) {
        problems.push(`${where}: unknown metric ${name}`);
      }
    }
  }
  assert.deepEqual(problems, []);
});

Deno.test("docs/observability.md describes every catalogued metric", async () => {
  const doc = await Deno.readTextFile(repoPath("docs/observability.md"));
  const missing = METRIC_CATALOGUE.map((m) => m.name).filter((name) =>
    !doc.includes(`\`${name}\``)
  );
  assert.deepEqual(missing, []);
});

Deno.test("compose runs Jaeger v2 with its UI, and both services export their spans to it as their Prometheus jobs", async () => {
  const result = await runTool("docker-compose", ["-f", "compose.yaml", "config"], {
    cwd: repoPath("./"),
  });
  assert.ok(result.success, result.output);
  type Service = {
    image?: string;
    command?: string[];
    environment?: Record<string, string>;
    ports?: { target: number }[];
  };
  const { services } = parseYaml(result.stdout) as { services: Record<string, Service> };
  const jaeger = services.jaeger;
  assert.match(jaeger?.image ?? "", /^jaegertracing\/jaeger:2\.\d+\.\d+$/, "a pinned Jaeger v2");
  assert.ok(jaeger?.ports?.some((p) => p.target === 16686), "the UI is published");
  assert.ok(jaeger?.command?.includes("--set=extensions.jaeger_query.enable_tracing=false"));
  const jobs = (parseYaml(await Deno.readTextFile(repoPath("prometheus/prometheus.yml"))) as {
    scrape_configs: { job_name: string }[];
  }).scrape_configs.map((job) => job.job_name);
  for (
    const [name, serviceName] of [["producer", "payment-producer"], [
      "consumer",
      "payment-consumer",
    ]]
  ) {
    const env = services[name!]?.environment ?? {};
    assert.equal(env.OTEL_DENO, "true", `${name} traces`);
    assert.equal(
      env.OTEL_EXPORTER_OTLP_ENDPOINT,
      "http://jaeger:4318",
      `${name} exports to Jaeger`,
    );
    assert.equal(env.OTEL_SERVICE_NAME, serviceName);
    assert.ok(jobs.includes(serviceName!), `${serviceName} is also its Prometheus job`);
  }
});

Deno.test("compose mounts this repository's Prometheus and Grafana configuration", async () => {
  const result = await runTool("docker-compose", ["-f", "compose.yaml", "config"], {
    cwd: repoPath("./"),
  });
  assert.ok(result.success, result.output);
  for (
    const mount of [
      "prometheus/prometheus.yml:/etc/prometheus/prometheus.yml",
      "prometheus/alerts.yml:/etc/prometheus/alerts.yml",
      "prometheus/slo_rules.yml:/etc/prometheus/slo_rules.yml",
      "prometheus/alertmanager.yml:/etc/alertmanager/alertmanager.yml",
      "grafana/provisioning:/etc/grafana/provisioning",
      "grafana/dashboards:/etc/grafana/dashboards",
    ]
  ) {
    assert.ok(result.stdout.includes(mount), `compose.yaml does not mount ${mount}`);
  }
  const provider = await Deno.readTextFile(
    repoPath("grafana/provisioning/dashboards/payments.yml"),
  );
  assert.match(provider, /path: \/etc\/grafana\/dashboards/);
});

Deno.test("compose scales the consumer: no fixed host port, no state volume shared by replicas, and Prometheus scrapes every replica", async () => {
  const result = await runTool(
    "docker-compose",
    ["-f", "compose.yaml", "config"],
    { cwd: repoPath("./") },
  );
  assert.ok(result.success, result.output);
  type Volume = string | { type: string; source?: string; target: string };
  type Service = {
    volumes?: Volume[];
    ports?: { target: number; published?: string | number }[];
    environment?: Record<string, string>;
  };
  const { services } = parseYaml(result.stdout) as { services: Record<string, Service> };
  const consumer = services.consumer!;
  const stateDir = consumer.environment?.CONSUMER_STATE_DIR;
  const state = consumer.volumes?.find((v) => (typeof v === "string" ? v : v.target) === stateDir);
  // Anonymous: a bare container path (short syntax) or a volume without a source.
  assert.ok(
    state === stateDir || (typeof state === "object" && state.type === "volume" && !state.source),
    `an anonymous volume, one per replica, never shared: ${JSON.stringify(state)}`,
  );
  const port = consumer.ports?.find((p) => p.target === 8001);
  assert.match(
    String(port?.published ?? ""),
    /^\d+-\d+$/,
    "a host port range, one port per replica",
  );
  assert.equal(
    consumer.environment?.CONSUMER_ADVERTISED_URL,
    undefined,
    "each replica its own address",
  );
  const job = (parseYaml(await Deno.readTextFile(repoPath("prometheus/prometheus.yml"))) as {
    scrape_configs: { job_name: string; dns_sd_configs?: { names: string[]; port: number }[] }[];
  }).scrape_configs.find((j) => j.job_name === "payment-consumer");
  assert.deepEqual(job?.dns_sd_configs?.[0]?.names, ["consumer"], "every replica by DNS");
  assert.equal(job?.dns_sd_configs?.[0]?.port, 8001);
});
