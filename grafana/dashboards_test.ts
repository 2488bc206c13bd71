import assert from "node:assert/strict";
import { loadDashboards, repoPath } from "../prometheus/sources.ts";
import { parseYaml } from "@payments/testing/tool";
import { type LintDashboard, lintDashboard, type ProvisionedDatasource } from "./dashboard_lint.ts";
import { checkDashboardTypes } from "./schema_check.ts";

interface DatasourceProvisioning {
  datasources: (ProvisionedDatasource & { jsonData?: Record<string, unknown> })[];
}

async function provisionedDatasources() {
  const dir = repoPath("grafana/provisioning/datasources/");
  const all: DatasourceProvisioning["datasources"] = [];
  for await (const entry of Deno.readDir(dir)) {
    if (!/\.ya?ml$/.test(entry.name)) continue;
    const doc = parseYaml(await Deno.readTextFile(dir + entry.name)) as DatasourceProvisioning;
    all.push(...doc.datasources);
  }
  return all;
}

async function dashboardSources() {
  return await Promise.all(
    (await loadDashboards()).map(async ({ file }) => ({
      file,
      text: await Deno.readTextFile(repoPath(file)),
    })),
  );
}

Deno.test("every dashboard under grafana/dashboards/ conforms to Grafana's published dashboard model", async () => {
  const sources = await dashboardSources();
  assert.ok(sources.length >= 3, "the three dashboards are there");
  assert.deepEqual(await checkDashboardTypes(sources), []);
});

Deno.test("the schema check names a misspelt option, a wrong type and an unknown panel type at their line", async () => {
  const text = JSON.stringify(
    {
      title: "Broken",
      schemaVersion: 39,
      panels: [
        {
          type: "timeseries",
          title: "Misspelt option",
          gridPos: { h: 8, w: 12, x: 0, y: 0 },
          options: { legend: { displayMod: "list" } },
          targets: [{ refId: "A", expr: "up" }],
        },
        {
          type: "stat",
          title: "Wrong type",
          gridPos: { h: 8, w: "wide", x: 12, y: 0 },
          targets: [{ refId: "A", expr: "up" }],
        },
        { type: "piechart", title: "Not a plugin we type", targets: [{ refId: "A", expr: "up" }] },
      ],
      templating: { list: [] },
    },
    null,
    2,
  );
  const problems = await checkDashboardTypes([{ file: "broken.json", text }]);
  const lineOf = (needle: string) => text.split("\n").findIndex((l) => l.includes(needle)) + 1;
  const at = problems.map((p) => p.replace(/: TS\d+ .*/, ""));
  assert.ok(
    at.some((p) => p.startsWith(`broken.json:${lineOf('"displayMod"')}:`)),
    problems.join("\n"),
  );
  assert.ok(at.some((p) => p.startsWith(`broken.json:${lineOf('"wide"')}:`)), problems.join("\n"));
  assert.ok(
    at.some((p) => p.startsWith(`broken.json:${lineOf('"piechart"')}:`)),
    problems.join("\n"),
  );
  assert.equal(problems.length, 3, problems.join("\n"));
});

Deno.test("every dashboard passes the lint: data sources, $__rate_interval, $job/$instance, units, titles", async () => {
  const provisioned = await provisionedDatasources();
  const problems = (await loadDashboards()).flatMap(({ file, json }) =>
    lintDashboard(file, json as unknown as LintDashboard, provisioned)
  );
  assert.deepEqual(problems, []);
});

Deno.test("the lint finds each kind of problem it looks for", () => {
  const ds = { type: "prometheus", uid: "${datasource}" };
  const panel = (
    title: string,
    unit: string,
    expr: string,
    extra: Record<string, unknown> = {},
  ) => ({
    type: "timeseries",
    title,
    datasource: ds,
    fieldConfig: { defaults: { unit }, overrides: [] },
    targets: [{ refId: "A", expr }],
    ...extra,
  });
  const ok = 'job=~"$job",instance=~"$instance"';
  const problems = lintDashboard("x.json", {
    templating: {
      list: [
        { name: "datasource", type: "datasource", query: "prometheus" },
        { name: "job", type: "query", datasource: ds },
        { name: "instance", type: "query", datasource: { type: "loki", uid: "logs" } },
      ],
    },
    panels: [
      panel(
        "Fine",
        "s",
        `histogram_quantile(0.9, sum by (le) (rate(a_seconds_bucket{${ok}}[$__rate_interval])))`,
      ),
      panel("No datasource", "short", `up{${ok}}`, { datasource: undefined }),
      panel("Fixed window", "reqps", `rate(a_total{${ok}}[5m])`),
      panel("Unfiltered", "short", 'up{job=~"$job"}'),
      panel("Seconds as short", "short", `max(lag_seconds{${ok}})`),
      panel("Bytes as short", "short", `memory_bytes{${ok}}`),
      panel(
        "Bytes per second overridden",
        "short",
        `rate(io_bytes_total{${ok}}[$__rate_interval])`,
        {
          fieldConfig: {
            defaults: { unit: "short" },
            overrides: [{
              matcher: { id: "byFrameRefID", options: "A" },
              properties: [{ id: "unit", value: "Bps" }],
            }],
          },
        },
      ),
      panel("Broken", "short", "sum(rate(x_total[5m])"),
      panel("Fine", "s", `max(lag_seconds{${ok}})`),
      { ...panel("No unit", "", `up{${ok}}`) },
    ],
  }, [{ name: "Prometheus", type: "prometheus", uid: "prometheus" }]);
  assert.deepEqual(problems, [
    "x.json variable $instance: datasource uid logs is not provisioned",
    'x.json "No datasource": no datasource',
    'x.json "Fixed window" A: rate() over [5m], not $__rate_interval',
    'x.json "Unfiltered" A: up is not filtered by $instance',
    'x.json "Seconds as short" A: a time axis with unit "short"',
    'x.json "Bytes as short" A: a byte axis with unit "short"',
    'x.json "Broken" A: syntax error at 21: ...',
    'x.json "No unit": no unit',
    'x.json: 2 panels are titled "Fine"',
  ]);
});

Deno.test("the dashboards are the three the docs name, each choosing its data source by variable", async () => {
  const dashboards = await loadDashboards();
  assert.deepEqual(dashboards.map((d) => d.json.title).sort(), [
    "Payment Processing Overview",
    "Payment SLOs",
    "System Overview",
  ]);
  for (const { file, json } of dashboards) {
    const variables = json.templating.list as { name: string; type: string; query?: unknown }[];
    const byName = new Map(variables.map((v) => [v.name, v]));
    assert.equal(byName.get("datasource")?.type, "datasource", `${file}: datasource variable`);
    assert.equal(byName.get("datasource")?.query, "prometheus", `${file}: datasource type`);
    if (json.title !== "Payment SLOs") {
      assert.equal(byName.get("job")?.type, "query", `${file}: job variable`);
      assert.equal(byName.get("instance")?.type, "query", `${file}: instance variable`);
    }
  }
});

Deno.test("Grafana opens an exemplar's trace_id as that trace in the provisioned Jaeger data source", async () => {
  const provisioned = await provisionedDatasources();
  const prometheus = provisioned.find((d) => d.type === "prometheus");
  const destinations = prometheus?.jsonData?.exemplarTraceIdDestinations as
    | { name: string; datasourceUid?: string; url?: string }[]
    | undefined;
  const jaeger = provisioned.find((d) => d.type === "jaeger");
  assert.ok(jaeger?.uid, "a Jaeger data source with a fixed uid");
  assert.equal((jaeger as { url?: string }).url, "http://jaeger:16686", "compose.yaml's Jaeger");
  assert.deepEqual(destinations?.find((d) => d.name === "trace_id")?.datasourceUid, jaeger.uid);
  // Every destination opens something provisioned: no link into a data source compose
  // does not run (the correlation_id once linked to a Loki search that nothing served).
  for (const destination of destinations ?? []) {
    assert.ok(
      destination.datasourceUid && provisioned.some((d) => d.uid === destination.datasourceUid),
      `exemplar link ${destination.name} opens no provisioned data source`,
    );
  }
});
