/**
 * Jaeger for tests: the project's Jaeger (`@payments/jaeger`, built once per machine from
 * the Go module proxy when missing) on free loopback ports in a temporary directory, with
 * a client of its query API. Without Go the start fails with the command that installs
 * it, never a skipped test.
 *
 * @example
 * ```ts
 * await using jaeger = await startTestJaeger();
 * const service = startService("producer", { env: jaeger.otelEnv("payment-producer") });
 * const search = { service: "payment-producer", tags: { "payment.id": "P-1" } };
 * const [trace] = await jaeger.query.waitForTraces(search, (traces) => traces.length > 0);
 * ```
 *
 * @module
 */
import { freePort } from "@payments/kafka/ports";
import { type JaegerServer, startJaeger } from "@payments/jaeger/launcher";
import { type JaegerQuery, jaegerQuery } from "./jaeger_query.ts";

export * from "./jaeger_query.ts";

/** A Jaeger started by {@linkcode startTestJaeger}. */
export interface TestJaeger extends JaegerServer {
  /** A client of its query API. */
  readonly query: JaegerQuery;
}

/** Options of {@linkcode startTestJaeger}. */
export interface TestJaegerOptions {
  /** Traces kept in memory (default 10,000: a test keeps few). */
  maxTraces?: number;
  /** How long to wait for it (default 30 s). */
  readyTimeoutMs?: number;
}

/** Starts a Jaeger on free ports; stop it (or `await using`) to remove its directory. */
export async function startTestJaeger(options: TestJaegerOptions = {}): Promise<TestJaeger> {
  const jaeger = await startJaeger({
    ports: { otlpGrpc: freePort(), otlpHttp: freePort(), query: freePort(), queryGrpc: freePort() },
    maxTraces: options.maxTraces ?? 10_000,
    readyTimeoutMs: options.readyTimeoutMs ?? 30_000,
  });
  return Object.assign(jaeger, { query: jaegerQuery(jaeger.queryUrl) });
}
