/**
 * Reads the observability config of this repository (alert rules, their unit tests and
 * the Grafana dashboards) into plain objects for the static and the live tests.
 *
 * @module
 */
import { parseYaml } from "./tool.ts";

/** The repository root. */
export const ROOT = new URL("../", import.meta.url);

/** Absolute path of a file in the repository. */
export function repoPath(relative: string): string {
  return new URL(relative, ROOT).pathname;
}

/** One alerting rule of alerts.yml. */
export interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/** Every alerting rule of prometheus/alerts.yml. */
export async function loadAlertRules(): Promise<AlertRule[]> {
  const doc = parseYaml(await Deno.readTextFile(repoPath("prometheus/alerts.yml"))) as {
    groups: { rules: AlertRule[] }[];
  };
  return doc.groups.flatMap((group) => group.rules).filter((rule) => rule.alert);
}

/** One `alert_rule_test` case of alerts_test.yml. */
export interface AlertCase {
  test: string;
  alertname: string;
  firing: boolean;
}

/** Every alert test case of prometheus/alerts_test.yml. */
export async function loadAlertCases(): Promise<AlertCase[]> {
  const doc = parseYaml(
    await Deno.readTextFile(repoPath("prometheus/alerts_test.yml")),
  ) as {
    tests: {
      name: string;
      alert_rule_test?: { alertname: string; exp_alerts?: unknown[] | null }[];
    }[];
  };
  return doc.tests.flatMap((test) =>
    (test.alert_rule_test ?? []).map((c) => ({
      test: test.name,
      alertname: c.alertname,
      firing: (c.exp_alerts ?? []).length > 0,
    }))
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
