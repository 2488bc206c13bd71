import assert from "node:assert/strict";
import { metricValue } from "@payments/shared/metrics";
import { startRssSampler, summarizeRss } from "./rss_sampler.ts";

Deno.test("metricValue reads a sample with or without labels, skipping HELP and TYPE", () => {
  const text = [
    "# HELP process_resident_memory_bytes Resident memory size in bytes.",
    "# TYPE process_resident_memory_bytes gauge",
    'process_resident_memory_bytes{service="payment-producer"} 125829120',
    "other_metric 3",
  ].join("\n");
  assert.equal(metricValue(text, "process_resident_memory_bytes"), 125_829_120);
  assert.equal(metricValue("x_total 4\n", "x_total"), 4);
  assert.equal(metricValue(text, "missing"), undefined);
});

Deno.test("a flat series shows no growth after warm-up; a leaking one does", () => {
  const flat = summarizeRss(
    "u",
    Array.from({ length: 60 }, (_, i) => [i * 10, i < 5 ? 100 + i * 10 : 150]),
  );
  assert.equal(flat.growthMiB, 0);
  assert.equal(flat.firstMiB, 100);
  assert.equal(flat.maxMiB, 150);
  const leak = summarizeRss("u", Array.from({ length: 60 }, (_, i) => [i * 10, 100 + i]));
  assert.ok(leak.growthMiB! > 25, `${leak.growthMiB}`);
  assert.deepEqual(summarizeRss("u", []), { url: "u", samples: [] });
});

Deno.test("the sampler reads each URL and stops with a summary", async () => {
  let n = 0;
  const fetchFn: typeof fetch = () =>
    Promise.resolve(new Response(`process_resident_memory_bytes ${(100 + n++) * 1024 * 1024}\n`));
  const sampler = startRssSampler(["http://a/metrics"], 10, fetchFn);
  await new Promise((resolve) => setTimeout(resolve, 50));
  const [series] = await sampler.stop();
  assert.ok(series!.samples.length >= 2);
  assert.equal(series!.firstMiB, 100);
  assert.equal(series!.url, "http://a/metrics");
});
