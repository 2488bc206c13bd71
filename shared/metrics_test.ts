import assert from "node:assert/strict";
import { Counter, register as globalRegistry } from "prom-client";
import { checkMetrics } from "@payments/testing/promtool";
import {
  createExemplarHistogram,
  createRegistry,
  exemplarLabels,
  metricsResponse,
  observeWithExemplar,
} from "./metrics.ts";

Deno.test("each registry is independent of the global one and exposes process metrics", async () => {
  const registry = createRegistry("payment-test");
  new Counter({ name: "demo_total", help: "demo", registers: [registry] }).inc(2);
  const response = await metricsResponse(registry);
  const text = await response.text();
  assert.match(response.headers.get("content-type")!, /^text\/plain/);
  assert.match(text, /demo_total\{service="payment-test"\} 2/);
  assert.match(text, /process_cpu_seconds_total/);
  assert.match(text, /nodejs_eventloop_lag_seconds/);
  assert.equal(await globalRegistry.getSingleMetricAsString("demo_total").catch(() => ""), "");
});

Deno.test("default metrics leave out the *_total gauges promtool rejects", async () => {
  const text = await createRegistry("payment-test").metrics();
  assert.doesNotMatch(text, /nodejs_active_handles_total/);
  assert.match(text, /nodejs_active_handles/);
});

const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
/** The Accept header Prometheus 2.x sends when exemplar storage is on. */
const PROMETHEUS_2_ACCEPT =
  "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75," +
  "text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
/** The Accept header of Prometheus 3.x's default scrape protocols. */
const PROMETHEUS_3_ACCEPT =
  "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6," +
  "application/openmetrics-text;version=0.0.1;q=0.5,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4," +
  "text/plain;version=0.0.4;q=0.3,*/*;q=0.2";

function exemplarRegistry() {
  const registry = createRegistry("payment-test", { defaults: false });
  const latency = createExemplarHistogram(registry, {
    name: "demo_latency_seconds",
    help: "demo latency",
    labelNames: ["topic"],
    buckets: [0.1, 1],
  });
  const requests = new Counter({
    name: "demo_requests_total",
    help: "demo",
    registers: [registry],
  });
  return { registry, latency, requests };
}

Deno.test("OpenMetrics carries the exemplar of each bucket; the text format stays exemplar-free", async () => {
  const { registry, latency, requests } = exemplarRegistry();
  requests.inc(3);
  observeWithExemplar(latency, { topic: "t" }, 0.05, {
    traceId: TRACE_ID,
    correlationId: "corr-1",
  });
  observeWithExemplar(latency, { topic: "t" }, 0.5, { correlationId: "corr-2" });
  const openMetrics = await registry.openMetrics();
  assert.match(
    openMetrics,
    /^demo_latency_seconds_bucket\{le="0\.1",[^}]*topic="t"[^}]*\} 1 # \{trace_id="4bf92f3577b34da6a3ce929d0e0e4736",correlation_id="corr-1"\} 0\.05 \d+(\.\d+)?$/m,
  );
  assert.match(
    openMetrics,
    /^demo_latency_seconds_bucket\{le="1",[^}]*\} 2 # \{correlation_id="corr-2"\} 0\.5 /m,
  );
  assert.match(openMetrics, /^# TYPE demo_requests counter$/m);
  assert.match(openMetrics, /^demo_requests_total\{service="payment-test"\} 3$/m);
  assert.match(openMetrics, /\n# EOF\n$/);

  const text = await registry.metrics();
  assert.doesNotMatch(text, /# \{/, "no exemplar in the text format");
  assert.match(text, /^# TYPE demo_requests_total counter$/m, "counters keep _total after OM");
  assert.match(text, /^demo_requests_total\{service="payment-test"\} 3$/m);
  const { code, output } = await checkMetrics(text);
  assert.equal(code, 0, output);
});

Deno.test("metricsResponse answers OpenMetrics only to scrapers that prefer it", async () => {
  const { registry } = exemplarRegistry();
  const cases: [string | null, RegExp][] = [
    [PROMETHEUS_2_ACCEPT, /^application\/openmetrics-text; version=1\.0\.0/],
    [PROMETHEUS_3_ACCEPT, /^application\/openmetrics-text; version=1\.0\.0/],
    [null, /^text\/plain; version=0\.0\.4/],
    ["*/*", /^text\/plain; version=0\.0\.4/],
    ["text/plain;version=0.0.4", /^text\/plain; version=0\.0\.4/],
    ["application/openmetrics-text;q=0", /^text\/plain; version=0\.0\.4/],
    ["text/plain;q=0.9,application/openmetrics-text;q=0.5", /^text\/plain; version=0\.0\.4/],
  ];
  for (const [accept, type] of cases) {
    const response = await metricsResponse(registry, accept);
    const body = await response.text();
    assert.match(response.headers.get("content-type")!, type, `Accept: ${accept}`);
    assert.equal(response.headers.get("vary"), "accept");
    assert.equal(
      body.endsWith("# EOF\n"),
      type.source.includes("openmetrics"),
      `Accept: ${accept}`,
    );
  }
});

Deno.test("exemplar labels take a valid trace id and a correlation id that fits", () => {
  assert.deepEqual(exemplarLabels({ traceId: TRACE_ID, correlationId: "c-1" }), {
    trace_id: "4bf92f3577b34da6a3ce929d0e0e4736",
    correlation_id: "c-1",
  });
  assert.deepEqual(exemplarLabels({ traceId: "0".repeat(32), correlationId: "c-1" }), {
    correlation_id: "c-1",
  });
  assert.deepEqual(exemplarLabels({}), {});
  // 128 characters of names and values at most (OpenMetrics): 40 for the trace id leaves 74.
  const fits = "x".repeat(74);
  assert.equal(
    exemplarLabels({ traceId: TRACE_ID, correlationId: fits }).correlation_id,
    fits,
  );
  assert.deepEqual(exemplarLabels({ traceId: TRACE_ID, correlationId: `${fits}y` }), {
    trace_id: "4bf92f3577b34da6a3ce929d0e0e4736",
  });
});

Deno.test("an observation with the longest correlation id a client may send never throws", () => {
  const { latency } = exemplarRegistry();
  observeWithExemplar(latency, { topic: "t" }, 0.05, {
    traceId: TRACE_ID,
    correlationId: "c".repeat(128),
  });
});
