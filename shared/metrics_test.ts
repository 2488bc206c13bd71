import assert from "node:assert/strict";
import { Counter, register as globalRegistry } from "prom-client";
import { batchSizeRange, createRegistry, metricsResponse } from "./metrics.ts";

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

Deno.test("batch size ranges are the lab's five, split at 1, 10, 50 and 100", () => {
  assert.deepEqual([1, 2, 10, 11, 50, 51, 100, 101, 500].map(batchSizeRange), [
    "single",
    "small",
    "small",
    "medium",
    "medium",
    "large",
    "large",
    "xlarge",
    "xlarge",
  ]);
});

Deno.test("default metrics leave out the *_total gauges promtool rejects", async () => {
  const text = await createRegistry("payment-test").metrics();
  assert.doesNotMatch(text, /nodejs_active_handles_total/);
  assert.match(text, /nodejs_active_handles/);
});
