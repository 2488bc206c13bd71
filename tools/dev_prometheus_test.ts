import assert from "node:assert/strict";
import { parse } from "yaml";
import { devPrometheusConfig, findRuleFiles, prometheusArgs } from "./dev_prometheus.ts";

const PROMETHEUS_DIR = new URL("../prometheus", import.meta.url).pathname;
const TARGETS = { producerPort: 18000, consumerPort: 18001, prometheusPort: 19090 };

Deno.test("rule files are found by what they hold, so files added later are loaded too", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${dir}/slo`);
    await Deno.writeTextFile(`${dir}/alerts.yml`, "groups:\n  - name: a\n    rules: []\n");
    await Deno.writeTextFile(`${dir}/slo/recording.yaml`, "groups: []\n");
    await Deno.writeTextFile(`${dir}/alerts_test.yml`, "rule_files: [alerts.yml]\ntests: []\n");
    await Deno.writeTextFile(`${dir}/prometheus.yml`, "scrape_configs: []\n");
    await Deno.writeTextFile(`${dir}/broken.yml`, "groups: [\n");
    assert.deepEqual(await findRuleFiles(dir), [`${dir}/alerts.yml`, `${dir}/slo/recording.yaml`]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the dev config is the project's prometheus.yml pointed at the dev ports", async () => {
  const project = await Deno.readTextFile(`${PROMETHEUS_DIR}/prometheus.yml`);
  const rules = await findRuleFiles(PROMETHEUS_DIR);
  const config = parse(devPrometheusConfig(project, rules, TARGETS));
  const original = parse(project);
  assert.deepEqual(config.global, original.global);
  assert.deepEqual(config.rule_files, rules);
  assert.equal(config.alerting, undefined, "no Alertmanager under dev");
  const targets = Object.fromEntries(
    config.scrape_configs.map((
      job: { job_name: string; static_configs: { targets: string[] }[] },
    ) => [job.job_name, job.static_configs.flatMap((c) => c.targets)]),
  );
  assert.deepEqual(targets["payment-producer"], ["localhost:18000"]);
  assert.deepEqual(targets["payment-consumer"], ["localhost:18001"]);
  assert.deepEqual(targets.prometheus, ["localhost:19090"]);
  assert.ok(prometheusArgs("c.yml", "/d", 19090).includes("--enable-feature=exemplar-storage"));
});

Deno.test("with a dev Alertmanager, the dev config sends Prometheus' alerts to it", async () => {
  const project = await Deno.readTextFile(`${PROMETHEUS_DIR}/prometheus.yml`);
  const config = parse(devPrometheusConfig(project, [], { ...TARGETS, alertmanagerPort: 19093 }));
  assert.deepEqual(config.alerting, {
    alertmanagers: [{ static_configs: [{ targets: ["localhost:19093"] }] }],
  });
});

Deno.test("a prometheus.yml without the services' jobs is refused with their names", () => {
  assert.throws(
    () => devPrometheusConfig("scrape_configs: []\n", [], TARGETS),
    /no scrape job payment-producer, payment-consumer/,
  );
});

Deno.test("promtool accepts the generated dev config and its rule files", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = `${dir}/prometheus.yml`;
    await Deno.writeTextFile(
      file,
      devPrometheusConfig(
        await Deno.readTextFile(`${PROMETHEUS_DIR}/prometheus.yml`),
        await findRuleFiles(PROMETHEUS_DIR),
        TARGETS,
      ),
    );
    let output: Deno.CommandOutput;
    try {
      output = await new Deno.Command("promtool", {
        args: ["check", "config", file],
        stdout: "piped",
        stderr: "piped",
      }).output();
    } catch {
      throw new Error("promtool is not installed; install it with: apt-get install prometheus");
    }
    const text = new TextDecoder().decode(output.stdout) + new TextDecoder().decode(output.stderr);
    assert.equal(output.code, 0, text);
    assert.match(text, /SUCCESS/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
