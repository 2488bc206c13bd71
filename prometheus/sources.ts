/**
 * Reads the observability config of this repository (alert rules, their unit tests and
 * the Grafana dashboards) into plain objects for the static and the live tests.
 *
 * @module
 */
import { parseYaml } from "@payments/testing/tool";

/** The repository root. */
export const ROOT = new URL("../", import.meta.url);

/** Absolute path of a file in the repository. */
export function repoPath(relative: string): string {
  return new URL(relative, ROOT).pathname;
}

/** One rule of a rule file: alerting (`alert`) or recording (`record`). */
export interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/** One alerting rule. */
export interface AlertRule extends Rule {
  alert: string;
}

/** One recording rule. */
export interface RecordingRule extends Rule {
  record: string;
}

/** A rule group of a rule file. */
export interface RuleGroup {
  name: string;
  interval?: string;
  rules: Rule[];
}

/** The rule groups of `file` (relative to prometheus/). */
export async function loadRuleGroups(file: string): Promise<RuleGroup[]> {
  const doc = parseYaml(await Deno.readTextFile(repoPath(`prometheus/${file}`))) as {
    groups: RuleGroup[];
  };
  return doc.groups;
}

/** The rule files prometheus/prometheus.yml loads, relative to prometheus/. */
export async function ruleFiles(): Promise<string[]> {
  const config = parseYaml(await Deno.readTextFile(repoPath("prometheus/prometheus.yml"))) as {
    rule_files: string[];
  };
  return config.rule_files;
}

/** Every alerting rule of `file` (default prometheus/alerts.yml). */
export async function loadAlertRules(file = "alerts.yml"): Promise<AlertRule[]> {
  return (await loadRuleGroups(file)).flatMap((group) => group.rules)
    .filter((rule): rule is AlertRule => Boolean(rule.alert));
}

/** Every recording rule of `file`. */
export async function loadRecordingRules(file: string): Promise<RecordingRule[]> {
  return (await loadRuleGroups(file)).flatMap((group) => group.rules)
    .filter((rule): rule is RecordingRule => Boolean(rule.record));
}

/** Every alerting rule of every rule file prometheus.yml loads, with its file. */
export async function loadAllAlertRules(): Promise<(AlertRule & { file: string })[]> {
  const all: (AlertRule & { file: string })[] = [];
  for (const file of await ruleFiles()) {
    all.push(...(await loadAlertRules(file)).map((rule) => ({ ...rule, file })));
  }
  return all;
}

/** One `alert_rule_test` case of a rule test file. */
export interface AlertCase {
  test: string;
  alertname: string;
  firing: boolean;
}

/** One `promql_expr_test` case of a rule test file. */
export interface ExprCase {
  test: string;
  expr: string;
}

interface RuleTestFile {
  tests: {
    name: string;
    alert_rule_test?: { alertname: string; exp_alerts?: unknown[] | null }[];
    promql_expr_test?: { expr: string }[];
  }[];
}

async function loadRuleTests(file: string): Promise<RuleTestFile> {
  return parseYaml(await Deno.readTextFile(repoPath(`prometheus/${file}`))) as RuleTestFile;
}

/** Every alert test case of `file` (default prometheus/alerts_test.yml). */
export async function loadAlertCases(file = "alerts_test.yml"): Promise<AlertCase[]> {
  return (await loadRuleTests(file)).tests.flatMap((test) =>
    (test.alert_rule_test ?? []).map((c) => ({
      test: test.name,
      alertname: c.alertname,
      firing: (c.exp_alerts ?? []).length > 0,
    }))
  );
}

/** Every PromQL expression test case of `file`. */
export async function loadExprCases(file: string): Promise<ExprCase[]> {
  return (await loadRuleTests(file)).tests.flatMap((test) =>
    (test.promql_expr_test ?? []).map((c) => ({ test: test.name, expr: c.expr }))
  );
}

/** A Grafana panel (only the fields the tests read). */
export interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: unknown;
  fieldConfig?: { defaults?: { unit?: string } };
  targets?: { expr?: string; refId: string; datasource?: unknown }[];
  panels?: Panel[];
}

/** A dashboard file. */
export interface Dashboard {
  file: string;
  json: { uid: string; title: string; panels: Panel[]; templating: { list: unknown[] } };
}

/** Every dashboard JSON under grafana/dashboards. */
export async function loadDashboards(): Promise<Dashboard[]> {
  const dir = repoPath("grafana/dashboards/");
  const dashboards: Dashboard[] = [];
  for await (const entry of Deno.readDir(dir)) {
    if (!entry.isFile || !entry.name.endsWith(".json")) continue;
    dashboards.push({
      file: `grafana/dashboards/${entry.name}`,
      json: JSON.parse(await Deno.readTextFile(dir + entry.name)),
    });
  }
  return dashboards.sort((a, b) => a.file.localeCompare(b.file));
}

/** Every panel of a dashboard, including those nested in collapsed rows. */
export function allPanels(panels: Panel[]): Panel[] {
  return panels.flatMap((panel) => [panel, ...allPanels(panel.panels ?? [])]);
}

/** One PromQL expression with where it comes from. */
export interface Expression {
  where: string;
  expr: string;
}

/** Every PromQL expression of the dashboards' panels. */
export function dashboardExpressions(dashboards: Dashboard[]): Expression[] {
  return dashboards.flatMap(({ json }) =>
    allPanels(json.panels).flatMap((panel) =>
      (panel.targets ?? []).map((target) => ({
        where: `${json.title} / ${panel.title} / ${target.refId}`,
        expr: target.expr ?? "",
      }))
    )
  );
}
