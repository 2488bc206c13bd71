import assert from "node:assert/strict";
import { getLogger } from "@logtape/logtape";
import { Registry } from "prom-client";
import { createConsumerMetrics } from "./metrics.ts";
import { createNaiveTimestampNotice } from "./naive_timestamps.ts";

function recordingLogger() {
  const warnings: { message: string; properties: Record<string, unknown> }[] = [];
  const logger = {
    ...getLogger(["test"]),
    warn: (message: string, properties: Record<string, unknown>) =>
      warnings.push({ message, properties }),
  } as unknown as ReturnType<typeof getLogger>;
  return { logger, warnings };
}

async function counts(registry: Registry): Promise<Record<string, number>> {
  const metric = await registry.getSingleMetric("payments_naive_timestamps_total")!.get();
  return Object.fromEntries(metric.values.map((v) => [String(v.labels.source), v.value]));
}

Deno.test("naive timestamps are counted per source, with one warning per source naming it", async () => {
  const registry = new Registry();
  const metrics = createConsumerMetrics(registry, "payment_requests");
  const { logger, warnings } = recordingLogger();
  const notice = createNaiveTimestampNotice({ counter: metrics.naiveTimestamps, logger });
  for (let i = 0; i < 3; i++) {
    notice({ source: "lab-producer", created_at: "2026-12-01T07:10:09.523215Z" });
  }
  notice({ source: "legacy-batch", created_at: "2026-12-01T07:10:10Z" });
  assert.deepEqual(await counts(registry), { "lab-producer": 3, "legacy-batch": 1 });
  assert.deepEqual(warnings.map((w) => [w.properties.source, w.properties.created_at]), [
    ["lab-producer", "2026-12-01T07:10:09.523215"],
    ["legacy-batch", "2026-12-01T07:10:10"],
  ]);
  assert.match(warnings[0]!.message, /without an offset .*reading it as UTC/);
});

Deno.test("past the source limit, further sources count as other and warn once together", async () => {
  const registry = new Registry();
  const metrics = createConsumerMetrics(registry, "payment_requests");
  const { logger, warnings } = recordingLogger();
  const notice = createNaiveTimestampNotice({
    counter: metrics.naiveTimestamps,
    logger,
    maxSources: 2,
  });
  for (const source of ["a", "b", "c", "d", "a", "c"]) {
    notice({ source, created_at: "2026-12-01T07:10:09Z" });
  }
  assert.deepEqual(await counts(registry), { a: 2, b: 1, other: 3 });
  assert.deepEqual(warnings.map((w) => w.properties.source), [
    "a",
    "b",
    "other (more than 2 sources)",
  ]);
});
