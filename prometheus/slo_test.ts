import assert from "node:assert/strict";
import { parsePromql, selectors } from "./promql.ts";
import { runTool } from "@payments/testing/tool";
import {
  loadAlertCases,
  loadAlertRules,
  loadExprCases,
  loadRecordingRules,
  loadRuleGroups,
  repoPath,
} from "./sources.ts";

const RULES = "slo_rules.yml";
const TESTS = ["slo_rules_test.yml", "slo_rules_long_test.yml"];
const SLOS = ["api-availability", "decision-latency", "transient-dead-letters"];
/** The windows the burn-rate alerts need, plus 30d for the dashboard's budget. */
const WINDOWS = ["5m", "30m", "1h", "2h", "6h", "1d", "3d", "30d"];
/** Google SRE Workbook, "Alerting on SLOs", multiwindow multi-burn-rate alerts. */
const BURN_PAIRS = {
  FastBurn: { severity: "page", pairs: [["1h", "5m", 14.4], ["6h", "30m", 6]] },
  SlowBurn: { severity: "ticket", pairs: [["1d", "2h", 3], ["3d", "6h", 1]] },
} as const;

async function assertToolSucceeds(command: string, args: string[]) {
  const result = await runTool(command, args, { cwd: repoPath("prometheus/") });
  assert.ok(
    result.success,
    `${command} ${args.join(" ")} exited ${result.code}:\n${result.output}`,
  );
}

/** `AlertName` of an SLO alert: `api-availability` + `FastBurn` -> `APIAvailabilityFastBurn`. */
function alertName(slo: string, kind: string): string {
  const words = slo.split("-").map((w) => w === "api" ? "API" : w[0]!.toUpperCase() + w.slice(1));
  return words.join("") + kind;
}

Deno.test("promtool check rules accepts prometheus/slo_rules.yml", async () => {
  await assertToolSucceeds("promtool", ["check", "rules", RULES]);
});

Deno.test("promtool test rules passes every SLO rule unit test", async () => {
  await assertToolSucceeds("promtool", ["test", "rules", ...TESTS]);
});

Deno.test("every SLO records its objective and its error ratio over every window, each over its own range", async () => {
  const recorded = await loadRecordingRules(RULES);
  const problems: string[] = [];
  for (const slo of SLOS) {
    const objective = recorded.find((r) =>
      r.record === "slo:objective:ratio" && r.labels?.slo === slo
    );
    const value = Number(/^vector\(([\d.]+)\)$/.exec(objective?.expr.trim() ?? "")?.[1]);
    if (!(value > 0 && value < 1)) problems.push(`${slo}: no objective vector(0.x)`);
    for (const window of WINDOWS) {
      const name = `slo:sli_error:ratio_rate${window}`;
      const rules = recorded.filter((r) => r.record === name && r.labels?.slo === slo);
      if (rules.length !== 1) {
        problems.push(`${slo}: ${rules.length} rules record ${name}`);
        continue;
      }
      const { expr } = rules[0]!;
      const errors = parsePromql(expr).errors;
      if (errors.length > 0) problems.push(`${slo} ${name}: ${errors.join("; ")}`);
      const ranges = new Set(selectors(expr).map((s) => s.range));
      if (ranges.size !== 1 || !ranges.has(window)) {
        problems.push(`${slo} ${name}: ranges ${[...ranges].join(", ")} instead of ${window}`);
      }
    }
  }
  const budget = recorded.find((r) => r.record === "slo:error_budget:ratio");
  assert.equal(budget?.expr.trim(), "1 - slo:objective:ratio");
  assert.deepEqual(problems, []);
});

Deno.test("every SLO pages on a fast burn and tickets a slow one over the Workbook's windows", async () => {
  const alerts = await loadAlertRules(RULES);
  const problems: string[] = [];
  const expected: string[] = [];
  for (const slo of SLOS) {
    for (const [kind, { severity, pairs }] of Object.entries(BURN_PAIRS)) {
      const name = alertName(slo, kind);
      expected.push(name);
      const alert = alerts.find((a) => a.alert === name);
      if (!alert) {
        problems.push(`${name}: missing`);
        continue;
      }
      if (alert.labels?.severity !== severity) problems.push(`${name}: severity not ${severity}`);
      // Each `ratio_rate<w>{slo="..."} / on (slo) slo:error_budget:ratio > factor` of the
      // expression, as (window, factor) pairs.
      const compared = [...alert.expr.matchAll(
        /slo:sli_error:ratio_rate(\w+)\{slo="([\w-]+)"\} \/ on \(slo\) slo:error_budget:ratio > ([\d.]+)/g,
      )].map(([, window, which, factor]) => `${which} ${window} > ${factor}`);
      const wanted = pairs.flatMap(([long, short, factor]) => [
        `${slo} ${long} > ${factor}`,
        `${slo} ${short} > ${factor}`,
      ]);
      if (compared.join(", ") !== wanted.join(", ")) {
        problems.push(`${name}: compares ${compared.join(", ")}; wanted ${wanted.join(", ")}`);
      }
      const errors = parsePromql(alert.expr).errors;
      if (errors.length > 0) problems.push(`${name}: ${errors.join("; ")}`);
    }
  }
  assert.deepEqual(alerts.map((a) => a.alert).sort(), expected.sort());
  assert.deepEqual(problems, []);
});

Deno.test("every SLO alert has a case where it fires and one where it must not", async () => {
  const cases = (await Promise.all(TESTS.map((file) => loadAlertCases(file)))).flat();
  const problems: string[] = [];
  for (const { alert } of await loadAlertRules(RULES)) {
    const mine = cases.filter((c) => c.alertname === alert);
    if (!mine.some((c) => c.firing)) problems.push(`${alert}: no case where it fires`);
    if (!mine.some((c) => !c.firing)) problems.push(`${alert}: no case where it must not fire`);
  }
  assert.deepEqual(problems, []);
});

Deno.test("every SLO recording rule has a promql_expr_test case", async () => {
  const cases = (await Promise.all(TESTS.map((file) => loadExprCases(file)))).flat();
  const tested = new Set<string>();
  for (const { expr } of cases) {
    for (const s of selectors(expr)) {
      const slo = s.matchers.find((m) => m.label === "slo" && m.op === "=")?.value;
      tested.add(slo ? `${s.name}{slo="${slo}"}` : `${s.name}`);
    }
  }
  const untested = (await loadRecordingRules(RULES))
    .map((r) => `${r.record}{slo="${r.labels?.slo ?? ""}"}`.replace('{slo=""}', ""))
    .filter((rule) => !tested.has(rule) && !tested.has(rule.replace(/\{.*/, "")));
  assert.deepEqual(untested, []);
});

Deno.test("the 30-day SLO ratios are the only rules evaluated less often than every scrape", async () => {
  const groups = await loadRuleGroups(RULES);
  const slow = groups.filter((g) => g.interval);
  assert.deepEqual(slow.map((g) => [g.name, g.interval]), [["slo-period", "5m"]]);
  assert.deepEqual(
    [...new Set(slow.flatMap((g) => g.rules.map((r) => r.record)))],
    ["slo:sli_error:ratio_rate30d"],
  );
});
