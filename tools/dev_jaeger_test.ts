import assert from "node:assert/strict";
import { JaegerError } from "@payments/jaeger/launcher";
import { devJaegerPorts, devTraces, devTracingEnv, traceCurlLine } from "./dev_jaeger.ts";

const options = (
  env: Record<string, string>,
  listening: number[],
  ensure: () => Promise<string>,
) => ({
  root: "/repo/",
  env,
  dataDir: "/repo/.data/jaeger",
  isListening: (port: number) => Promise.resolve(listening.includes(port)),
  ensureJaeger: ensure,
});
const built = () => Promise.resolve("/cache/jaeger");
const noGo = () =>
  Promise.reject(
    new JaegerError("Cannot build Jaeger 2.12.0: Go (`go`) is not installed; install Go"),
  );

Deno.test("an OTLP endpoint in the environment is used as it is, and nothing is started", async () => {
  const traces = await devTraces(
    options({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318" }, [], noGo),
  );
  assert.deepEqual(traces, {
    on: true,
    endpoint: "http://collector:4318",
    line: "traces       exported to http://collector:4318",
  });
});

Deno.test("a Jaeger already listening on both ports is reused, on the ports the environment names", async () => {
  const env = { JAEGER_OTLP_HTTP_PORT: "14318", JAEGER_QUERY_PORT: "26686" };
  const traces = await devTraces(options(env, [14318, 26686], noGo));
  assert.ok(traces.on);
  assert.equal(traces.endpoint, "http://127.0.0.1:14318");
  assert.equal(traces.queryUrl, "http://localhost:26686");
  assert.equal(traces.command, undefined, "nothing started");
});

Deno.test("with the binary built (or Go to build it) dev starts deno task jaeger on its ports", async () => {
  const env = { JAEGER_OTLP_HTTP_PORT: "14318" };
  const traces = await devTraces(options(env, [16686], built));
  assert.ok(traces.on && traces.command, "one port alone taken is not a Jaeger: start one");
  assert.equal(traces.endpoint, "http://127.0.0.1:14318");
  assert.deepEqual(devJaegerPorts(env), {
    otlpGrpc: 4317,
    otlpHttp: 14318,
    query: 16686,
    queryGrpc: 16685,
  });
});

Deno.test("without Go dev says why in one line and goes on with tracing off", async () => {
  const traces = await devTraces(options({}, [], noGo));
  assert.equal(traces.on, false);
  assert.match(
    traces.line,
    /^Jaeger not started, traces off: Cannot build Jaeger .* Go .* not installed/,
  );
  assert.equal(traces.line.includes("\n"), false);
  assert.deepEqual(devTracingEnv(traces, {}), {}, "the services run untraced");
});

Deno.test("the services export everything to the backend unless the environment chooses", () => {
  const on = { on: true as const, endpoint: "http://127.0.0.1:4318", line: "" };
  assert.deepEqual(devTracingEnv(on, {}), {
    OTEL_DENO: "true",
    OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:4318",
    OTEL_TRACES_SAMPLER: "parentbased_always_on",
  });
  assert.deepEqual(
    devTracingEnv(on, {
      OTEL_TRACES_SAMPLER: "parentbased_traceidratio",
      OTEL_TRACES_SAMPLER_ARG: "0.5",
    }),
    {
      OTEL_DENO: "true",
      OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:4318",
      OTEL_TRACES_SAMPLER: "parentbased_traceidratio",
      OTEL_TRACES_SAMPLER_ARG: "0.5",
    },
  );
});

Deno.test("the banner's curl lists the README payment's trace through the consumer's spans", () => {
  assert.equal(
    traceCurlLine("http://localhost:16686"),
    `curl -sG http://localhost:16686/api/traces --data-urlencode service=payment-consumer ` +
      `--data-urlencode 'tags={"payment.id":"TEST-001"}' | jq '.data[].spans[].operationName'`,
  );
});
