import assert from "node:assert/strict";
import { Registry } from "prom-client";
import { monitorEventLoopDelay } from "./event_loop_delay.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const block = (ms: number) => {
  const until = performance.now() + ms;
  while (performance.now() < until) { /* a synchronous step */ }
};

Deno.test("a loop blocked for 200 ms shows as a late tick of about 200 ms; an idle loop stays near zero", async () => {
  const registry = new Registry();
  const loop = monitorEventLoopDelay(registry, 10);
  try {
    await sleep(100);
    assert.ok(loop.max() < 0.05, `idle: ${loop.max()}`);
    block(200);
    await sleep(50);
    assert.ok(loop.max() >= 0.15 && loop.max() < 1, `blocked: ${loop.max()}`);
    const text = await registry.metrics();
    assert.match(text, /^event_loop_delay_max_seconds 0\.[1-9]/m);
    assert.match(text, /^event_loop_delay_seconds_bucket\{le="0\.25"\} [1-9]/m);
  } finally {
    loop.stop();
  }
});
