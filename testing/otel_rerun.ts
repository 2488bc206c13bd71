/**
 * Unit tests of code that behaves differently under Deno's OpenTelemetry: a test process
 * cannot switch `OTEL_DENO` on for itself (the runtime reads it at start), so a test file
 * tests the behaviour without it directly and runs itself again in a child `deno test`
 * with it, every span sampled and exported nowhere (nothing listens on port 9, and Deno
 * says nothing about it). The child must pass exactly the cases it was expected to run,
 * so a branch that runs none cannot pass.
 *
 * @example
 * ```ts
 * if (!otelEnabled()) {
 *   Deno.test("... without OTEL_DENO ...", () => {...});
 *   Deno.test("this file passes under OTEL_DENO=true", rerunUnderOtel(import.meta.url, 4));
 * } else {
 *   Deno.test("... a span ...", () => {...}); // 4 of these
 * }
 * ```
 *
 * @module
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { propagation } from "@opentelemetry/api";

/** Whether this process runs under Deno's OpenTelemetry (`OTEL_DENO=true`). */
export function otelEnabled(): boolean {
  return propagation.fields().includes("traceparent");
}

/** The environment of the child: OpenTelemetry on, everything sampled, exported nowhere. */
export const OTEL_TEST_ENV: Readonly<Record<string, string>> = Object.freeze({
  OTEL_DENO: "true",
  OTEL_TRACES_SAMPLER: "parentbased_always_on",
  OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:9",
  OTEL_DENO_METRICS: "false",
  OTEL_DENO_CONSOLE: "ignore",
  NO_COLOR: "1",
});

/**
 * A test that runs the test file at `moduleUrl` in a child `deno test` under
 * {@linkcode OTEL_TEST_ENV} and asserts that exactly `passed` tests passed there.
 */
export function rerunUnderOtel(moduleUrl: string, passed: number): () => Promise<void> {
  return async () => {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["test", "-A", "--no-check", fileURLToPath(moduleUrl)],
      cwd: fileURLToPath(new URL("..", import.meta.url)),
      env: { ...OTEL_TEST_ENV },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const output = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    assert.ok(out.success, output);
    assert.match(output, new RegExp(`ok \\| ${passed} passed \\| 0 failed`), output);
  };
}
