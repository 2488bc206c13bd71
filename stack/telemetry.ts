/**
 * Where each service's OpenTelemetry defaults are written, once: `<service>/telemetry.env`,
 * loaded by `deno run --env-file`, which never overrides a variable already set. Deno
 * reads `OTEL_*` when the process starts, so a service cannot default them for itself in
 * code; every way of starting one (the `producer` and `consumer` tasks, `deno task dev`,
 * {@linkcode startService}) passes {@linkcode telemetryEnvFlag}.
 *
 * @example
 * ```ts
 * new Deno.Command(Deno.execPath(), { args: ["run", "-A", telemetryEnvFlag("producer"), main] });
 * telemetryDefaults("producer").OTEL_TRACES_SAMPLER_ARG; // "0.1"
 * ```
 *
 * @module
 */
import { fileURLToPath } from "node:url";

/** A service that has telemetry defaults. */
export type TelemetryService = "producer" | "consumer";

/** The absolute path of a service's defaults file. */
export function telemetryEnvFile(service: TelemetryService): string {
  return fileURLToPath(new URL(`../${service}/telemetry.env`, import.meta.url));
}

/** The `deno run` flag that loads a service's defaults. */
export function telemetryEnvFlag(service: TelemetryService): string {
  return `--env-file=${telemetryEnvFile(service)}`;
}

/**
 * The defaults of a service as `deno run --env-file` reads them (`NAME=value` lines;
 * blank lines and `#` comments skipped; the first of a repeated name wins).
 */
export function telemetryDefaults(service: TelemetryService): Record<string, string> {
  return parseEnvFile(Deno.readTextFileSync(telemetryEnvFile(service)));
}

/** The `NAME=value` lines of an env file. */
export function parseEnvFile(text: string): Record<string, string> {
  const values: Record<string, string> = {};
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const at = line.indexOf("=");
    if (at <= 0) throw new Error(`Not a NAME=value line in an env file: ${line}`);
    const name = line.slice(0, at).trim();
    if (!(name in values)) values[name] = line.slice(at + 1).trim();
  }
  return values;
}
