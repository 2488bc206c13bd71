import assert from "node:assert/strict";
import { repoPath } from "./sources.ts";
import { parseYaml, runTool } from "@payments/testing/tool";

Deno.test("amtool accepts alertmanager.yml and routes every severity the rules use to page or ticket", async () => {
  const cwd = repoPath("prometheus/");
  const check = await runTool("amtool", ["check-config", "alertmanager.yml"], { cwd });
  assert.ok(check.success, check.output);
  const severities = new Set<string>();
  for (const file of ["alerts.yml", "slo_rules.yml"]) {
    const doc = parseYaml(await Deno.readTextFile(`${cwd}${file}`)) as {
      groups: { rules: { alert?: string; labels?: Record<string, string> }[] }[];
    };
    for (const rule of doc.groups.flatMap((g) => g.rules)) {
      if (rule.alert) severities.add(rule.labels?.severity ?? "(none)");
    }
  }
  const expected: Record<string, string> = {
    page: "page",
    critical: "page",
    ticket: "ticket",
    warning: "ticket",
  };
  const routed: Record<string, string> = {};
  for (const severity of [...severities].sort()) {
    const result = await runTool(
      "amtool",
      ["config", "routes", "test", "--config.file=alertmanager.yml", `severity=${severity}`],
      { cwd },
    );
    assert.ok(result.success, result.output);
    routed[severity] = result.stdout.trim();
  }
  assert.deepEqual(
    routed,
    Object.fromEntries([...severities].sort().map((s) => [s, expected[s] ?? "(unknown)"])),
    "each severity of alerts.yml and slo_rules.yml goes to its receiver",
  );
});
