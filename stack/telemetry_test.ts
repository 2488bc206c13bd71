import assert from "node:assert/strict";
import { parseEnvFile, telemetryDefaults, telemetryEnvFlag } from "./telemetry.ts";

Deno.test("each service's OpenTelemetry defaults name it as Prometheus does and sample parent-based", () => {
  for (
    const [service, name] of [["producer", "payment-producer"], [
      "consumer",
      "payment-consumer",
    ]] as const
  ) {
    const defaults = telemetryDefaults(service);
    assert.equal(defaults.OTEL_SERVICE_NAME, name, "the Prometheus job name");
    assert.equal(defaults.OTEL_TRACES_SAMPLER, "parentbased_traceidratio");
    const ratio = Number(defaults.OTEL_TRACES_SAMPLER_ARG);
    assert.ok(ratio > 0 && ratio <= 1, `a ratio, got ${defaults.OTEL_TRACES_SAMPLER_ARG}`);
    // Off by default: measured too costly to leave on (docs/benchmarks.md, "Tracing").
    assert.equal(defaults.OTEL_DENO, undefined, "tracing is not switched on by default");
  }
  assert.deepEqual(
    { ...telemetryDefaults("producer"), OTEL_SERVICE_NAME: "" },
    { ...telemetryDefaults("consumer"), OTEL_SERVICE_NAME: "" },
    "the same settings for both",
  );
});

Deno.test("deno task producer and consumer load the defaults as the harness does", async () => {
  const tasks = JSON.parse(await Deno.readTextFile(new URL("../deno.json", import.meta.url))).tasks;
  for (const service of ["producer", "consumer"] as const) {
    assert.equal(
      tasks[service],
      `deno run -A --env-file=${service}/telemetry.env ${service}/main.ts`,
    );
    assert.match(
      telemetryEnvFlag(service),
      new RegExp(`^--env-file=/.+/${service}/telemetry\\.env$`),
    );
  }
});

Deno.test("env files are read as deno run --env-file reads them: comments skipped, the first wins", () => {
  assert.deepEqual(parseEnvFile("# c\n\nA=1\nB = two words \nA=2\n"), { A: "1", B: "two words" });
  assert.throws(() => parseEnvFile("not a line"), /Not a NAME=value line/);
});
