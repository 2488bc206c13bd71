import assert from "node:assert/strict";
import { paymentRecords } from "./kafkajs.ts";
import { roundOrder, tracingModes, withTraceparents } from "./tracing.ts";

Deno.test("each round runs every mode, each mode taking each place in turn", () => {
  const modes = ["off", "default", "full"];
  assert.deepEqual([0, 1, 2, 3].map((round) => roundOrder(modes, round)), [
    ["off", "default", "full"],
    ["default", "full", "off"],
    ["full", "off", "default"],
    ["off", "default", "full"],
  ]);
  assert.equal(tracingModes(0.1).length, 4);
});

Deno.test("the modes: OTEL_DENO off, the default ratio parent-based, everything sampled", () => {
  const [off, unsampled, byDefault, full] = tracingModes(0.1);
  assert.deepEqual(off!.env, { OTEL_DENO: "false" });
  assert.deepEqual(unsampled!.env, { OTEL_DENO: "true", OTEL_TRACES_SAMPLER: "always_off" });
  assert.deepEqual(byDefault!.env, {
    OTEL_DENO: "true",
    OTEL_TRACES_SAMPLER: "parentbased_traceidratio",
    OTEL_TRACES_SAMPLER_ARG: "0.1",
  });
  assert.equal(byDefault!.name, "tracing at the default 10%");
  assert.equal(full!.env.OTEL_TRACES_SAMPLER, "parentbased_always_on");
});

Deno.test("the consumer's input carries traceparents of their own, sampled at the mode's share", () => {
  const records = paymentRecords(2000, 1, "t");
  const flags = (share: number) =>
    withTraceparents(records, share).map((r) =>
      (r.headers as Record<string, string>).traceparent?.slice(-2)
    );
  assert.ok(flags(0).every((flag) => flag === undefined), "no traceparent with tracing off");
  assert.ok(flags(1).every((flag) => flag === "01"));
  const sampled = flags(0.1).filter((flag) => flag === "01").length;
  assert.ok(sampled > 100 && sampled < 300, `about 10% sampled, got ${sampled} of 2000`);
  const ids = new Set(
    withTraceparents(records, 1).map((r) => (r.headers as Record<string, string>).traceparent),
  );
  assert.equal(ids.size, records.length, "a trace each");
  assert.equal(
    (withTraceparents(records, 1)[0]!.headers as Record<string, string>).source,
    "bench",
  );
});
