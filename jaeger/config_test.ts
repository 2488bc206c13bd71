import assert from "node:assert/strict";
import { jaegerConfig, type JaegerPorts } from "./config.ts";

const PORTS: JaegerPorts = { otlpGrpc: 1001, otlpHttp: 1002, query: 1003, queryGrpc: 1004 };

/** Every `endpoint` string anywhere in the config. */
function endpoints(value: unknown): string[] {
  if (typeof value !== "object" || value === null) return [];
  return Object.entries(value).flatMap(([key, inner]) =>
    key === "endpoint" && typeof inner === "string" ? [inner] : endpoints(inner)
  );
}

Deno.test("the Jaeger config listens on exactly the four given ports, on loopback by default", () => {
  assert.deepEqual(endpoints(jaegerConfig({ ports: PORTS })).sort(), [
    "127.0.0.1:1001",
    "127.0.0.1:1002",
    "127.0.0.1:1003",
    "127.0.0.1:1004",
  ]);
  assert.deepEqual(
    endpoints(jaegerConfig({ ports: PORTS, host: "::1" })).sort()[0],
    "[::1]:1001",
  );
});

Deno.test("the Jaeger config opens no port of its own: no collector metrics, no self-tracing", () => {
  const config = jaegerConfig({ ports: PORTS }) as {
    service: { extensions: string[]; telemetry: { metrics: { level: string } } };
    extensions: { jaeger_query: { enable_tracing: boolean } };
  };
  // The all-in-one's health check, expvar, zpages and remote sampling listen on fixed ports.
  assert.deepEqual(config.service.extensions, ["jaeger_storage", "jaeger_query"]);
  assert.equal(config.service.telemetry.metrics.level, "none");
  assert.equal(config.extensions.jaeger_query.enable_tracing, false);
});
