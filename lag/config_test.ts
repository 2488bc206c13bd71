import assert from "node:assert/strict";
import { ConfigError } from "@payments/shared/env";
import { loadLagMonitorSettings } from "./config.ts";

Deno.test("the lag monitor is on by default and measures every 5 s", () => {
  assert.deepEqual(loadLagMonitorSettings({}), { enabled: true, intervalMs: 5000 });
});

Deno.test("the lag monitor can be switched off and its period changed", () => {
  const settings = loadLagMonitorSettings({
    LAG_MONITOR_ENABLED: "false",
    LAG_MONITOR_INTERVAL_MS: "1000",
  });
  assert.deepEqual(settings, { enabled: false, intervalMs: 1000 });
});

Deno.test("bad lag monitor settings name their variables", () => {
  assert.throws(
    () => loadLagMonitorSettings({ LAG_MONITOR_ENABLED: "maybe", LAG_MONITOR_INTERVAL_MS: "-1" }),
    (error: unknown) =>
      error instanceof ConfigError && /LAG_MONITOR_ENABLED/.test(error.message) &&
      /LAG_MONITOR_INTERVAL_MS/.test(error.message),
  );
});
