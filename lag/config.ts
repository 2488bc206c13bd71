/**
 * The lag monitor's settings, read by each service that runs it (both do: the
 * producer so lag stays visible while every consumer is down).
 *
 * | variable | default | meaning |
 * | --- | --- | --- |
 * | `LAG_MONITOR_ENABLED` | `true` | export `consumer_lag_*` and the partition status of the consumer group |
 * | `LAG_MONITOR_INTERVAL_MS` | `5000` | lag measurement period |
 *
 * @module
 */
import { z } from "zod";
import { boolVar, type Env, millisVar, parseEnv } from "@payments/shared/env";

/** Whether and how often a service measures the consumer group's lag. */
export interface LagMonitorSettings {
  enabled: boolean;
  intervalMs: number;
}

const schema = z.object({
  LAG_MONITOR_ENABLED: boolVar.default(true),
  LAG_MONITOR_INTERVAL_MS: millisVar.default(5000),
});

/**
 * Resolves the lag monitor's settings from an environment. Pure; throws a
 * `ConfigError` naming every bad variable.
 *
 * @example
 * ```ts
 * loadLagMonitorSettings({ LAG_MONITOR_ENABLED: "false" }); // { enabled: false, intervalMs: 5000 }
 * ```
 */
export function loadLagMonitorSettings(env: Env): LagMonitorSettings {
  const vars = parseEnv(schema, env);
  return { enabled: vars.LAG_MONITOR_ENABLED, intervalMs: vars.LAG_MONITOR_INTERVAL_MS };
}
