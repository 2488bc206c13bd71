/**
 * What a reviewer of Grafana dashboards checks beyond the schema, on the dashboard JSON
 * and its PromQL (parsed with Prometheus' own grammar, `prometheus/promql.ts`):
 *
 * - every panel, target and query variable has a data source that exists in
 *   provisioning (directly by uid, or through a data source variable of a provisioned type);
 * - every query parses, and every `rate()` / `irate()` uses `$__rate_interval` (Grafana's
 *   window that always holds enough scrapes at any zoom);
 * - where the dashboard has `job` / `instance` variables, every selector is filtered by them;
 * - every panel has a unit, and a time (bytes, bytes/s) result has a time (byte, byte
 *   rate) unit, from the dimension of its query;
 * - no two panels share a title.
 *
 * @module
 */
import { parsePromql, resultDimension, selectors } from "../prometheus/promql.ts";

/** A data source as grafana/provisioning/datasources declares it. */
export interface ProvisionedDatasource {
  name: string;
  type: string;
  uid?: string;
}

interface Ref {
  type?: string;
  uid?: string;
}
interface Target {
  refId?: string;
  expr?: string;
  datasource?: Ref | string | null;
}
interface LintPanel {
  type: string;
  title?: string;
  datasource?: Ref | string | null;
  fieldConfig?: {
    defaults?: { unit?: string };
    overrides?: {
      matcher?: { id?: string; options?: unknown };
      properties?: { id?: string; value?: unknown }[];
    }[];
  };
  targets?: Target[];
  panels?: LintPanel[];
}
interface LintVariable {
  name: string;
  type: string;
  query?: unknown;
  datasource?: Ref | string | null;
}
/** The parts of a dashboard the lint reads. */
export interface LintDashboard {
  title?: string;
  panels?: LintPanel[];
  templating?: { list?: LintVariable[] };
}

/** Grafana unit ids for durations, byte sizes and byte rates. */
export const TIME_UNITS = new Set([
  "ns",
  "µs",
  "ms",
  "s",
  "m",
  "h",
  "d",
  "dtdurationms",
  "dtdurations",
  "dthms",
  "dtdhms",
  "timeticks",
  "clockms",
  "clocks",
]);
export const BYTE_UNITS = new Set([
  "bytes",
  "decbytes",
  "bits",
  "decbits",
  "kbytes",
  "deckbytes",
  "mbytes",
  "decmbytes",
  "gbytes",
  "decgbytes",
  "tbytes",
  "dectbytes",
]);
export const BYTE_RATE_UNITS = new Set([
  "Bps",
  "binBps",
  "bps",
  "binbps",
  "KBs",
  "KiBs",
  "Kbits",
  "MBs",
  "MiBs",
  "Mbits",
  "GBs",
  "GiBs",
]);

function panelsOf(panels: LintPanel[] = []): LintPanel[] {
  return panels.flatMap((panel) => [panel, ...panelsOf(panel.panels)]);
}

const VARIABLE_REF = /^\$\{?(\w+)\}?$/;

/** Why `ref` does not name a provisioned data source, or undefined when it does. */
function datasourceProblem(
  ref: Ref | string | null | undefined,
  variables: LintVariable[],
  provisioned: ProvisionedDatasource[],
): string | undefined {
  if (ref === undefined || ref === null) return "no datasource";
  const uid = typeof ref === "string" ? ref : ref.uid;
  if (typeof ref === "object" && ref.type === "grafana") return undefined; // built-in
  if (!uid) return "a datasource without uid";
  const variable = VARIABLE_REF.exec(uid)?.[1];
  if (variable) {
    const v = variables.find((candidate) => candidate.name === variable);
    if (!v || v.type !== "datasource") return `datasource variable $${variable} is not defined`;
    return provisioned.some((d) => d.type === v.query)
      ? undefined
      : `$${variable} selects ${String(v.query)} data sources, none is provisioned`;
  }
  return provisioned.some((d) => d.uid === uid)
    ? undefined
    : `datasource uid ${uid} is not provisioned`;
}

/** The unit a target's series get: an override by its refId, else the panel's default. */
function unitOf(panel: LintPanel, refId: string | undefined): string | undefined {
  for (const override of panel.fieldConfig?.overrides ?? []) {
    if (override.matcher?.id !== "byFrameRefID" || override.matcher.options !== refId) continue;
    const unit = override.properties?.find((p) => p.id === "unit")?.value;
    if (typeof unit === "string") return unit;
  }
  return panel.fieldConfig?.defaults?.unit;
}

/** Every lint problem of `dashboard` (from `file`), one sentence each. */
export function lintDashboard(
  file: string,
  dashboard: LintDashboard,
  provisioned: ProvisionedDatasource[],
): string[] {
  const problems: string[] = [];
  const variables = dashboard.templating?.list ?? [];
  const names = new Set(variables.map((v) => v.name));
  for (const v of variables.filter((v) => v.type === "query")) {
    const problem = datasourceProblem(v.datasource, variables, provisioned);
    if (problem) problems.push(`${file} variable $${v.name}: ${problem}`);
  }
  const titles = new Map<string, number>();
  for (const panel of panelsOf(dashboard.panels)) {
    const where = `${file} "${panel.title ?? "(untitled)"}"`;
    titles.set(panel.title ?? "", (titles.get(panel.title ?? "") ?? 0) + 1);
    if (panel.type === "row") continue;
    const problem = datasourceProblem(panel.datasource, variables, provisioned);
    if (problem) problems.push(`${where}: ${problem}`);
    if (!panel.fieldConfig?.defaults?.unit) problems.push(`${where}: no unit`);
    if (!panel.targets?.length) problems.push(`${where}: no query`);
    for (const target of panel.targets ?? []) {
      const at = `${where} ${target.refId ?? "?"}`;
      if (target.datasource !== undefined) {
        const targetProblem = datasourceProblem(target.datasource, variables, provisioned);
        if (targetProblem) problems.push(`${at}: ${targetProblem}`);
      }
      const expr = target.expr ?? "";
      const errors = parsePromql(expr).errors;
      if (errors.length > 0) {
        problems.push(`${at}: ${errors.join("; ")}`);
        continue;
      }
      for (const selector of selectors(expr)) {
        if (
          (selector.fn === "rate" || selector.fn === "irate") &&
          selector.range !== "$__rate_interval"
        ) {
          problems.push(`${at}: ${selector.fn}() over [${selector.range}], not $__rate_interval`);
        }
        for (const label of ["job", "instance"].filter((l) => names.has(l))) {
          const filtered = selector.matchers.some((m) =>
            m.label === label && (m.value.includes(`$${label}`) || m.value.includes(`\${${label}`))
          );
          if (!filtered) {
            problems.push(`${at}: ${selector.name ?? "{...}"} is not filtered by $${label}`);
          }
        }
      }
      const unit = unitOf(panel, target.refId) ?? "";
      const { seconds, bytes } = resultDimension(expr);
      const need = seconds === 1 && bytes === 0
        ? ["time", TIME_UNITS]
        : bytes === 1 && seconds === 0
        ? ["byte", BYTE_UNITS]
        : bytes === 1 && seconds === -1
        ? ["byte rate", BYTE_RATE_UNITS]
        : undefined;
      if (need && !(need[1] as Set<string>).has(unit)) {
        problems.push(`${at}: a ${need[0]} axis with unit "${unit}"`);
      }
    }
  }
  for (const [title, count] of titles) {
    if (count > 1) problems.push(`${file}: ${count} panels are titled "${title}"`);
  }
  return problems;
}
