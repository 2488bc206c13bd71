import assert from "node:assert/strict";
import { plainProgress, progressLine, type ProgressSnapshot } from "./progress.ts";

const snapshot = (elapsedMs: number): ProgressSnapshot => ({
  elapsedMs,
  sent: 12_000,
  accepted: 11_500,
  rejected: 450,
  errors: 0,
  shed: 30,
  rate: 1003.4,
  p50: 2.345,
  p99: 11.5,
  value: 12_000,
  total: 20_000,
  phase: "sending",
});

Deno.test("a plain progress line shows counts, rate and percentiles", () => {
  assert.equal(
    progressLine(snapshot(12_300)),
    "[  12.3s] sending: sent 12,000, accepted 11,500, rejected 450, shed 30, errors 0 | " +
      "1,003/s | " +
      "p50 2.3 ms p99 11.5 ms",
  );
});

Deno.test("plain progress prints at most one line per interval", () => {
  const lines: string[] = [];
  const progress = plainProgress((line) => lines.push(line), 5000);
  for (let t = 1000; t <= 12_000; t += 1000) progress.update(snapshot(t));
  assert.equal(lines.length, 3); // at 1 s, 6 s and 11 s
  assert.match(lines[1]!, /^\[\s+6\.0s\]/);
});
