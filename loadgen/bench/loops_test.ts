import assert from "node:assert/strict";
import { cpuRatioToPeer } from "./loops.ts";

Deno.test("a loop's CPU per record reads as a ratio to the Kafka Streams peer's", () => {
  assert.equal(cpuRatioToPeer(91, 65), "CPU per record 1.40x the Kafka Streams peer's");
  assert.equal(cpuRatioToPeer(13, 65), "CPU per record 0.20x the Kafka Streams peer's");
});

Deno.test("no ratio without both figures", () => {
  assert.equal(cpuRatioToPeer(undefined, 65), undefined);
  assert.equal(cpuRatioToPeer(91, undefined), undefined);
  assert.equal(cpuRatioToPeer(NaN, 65), undefined);
  assert.equal(cpuRatioToPeer(91, 0), undefined);
});
