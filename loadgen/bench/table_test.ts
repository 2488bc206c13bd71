import assert from "node:assert/strict";
import {
  belowTarget,
  formatBenchTable,
  latencyTarget,
  ratioTarget,
  throughputRow,
} from "./table.ts";

Deno.test("a throughput row carries its ratio to the ceiling", () => {
  const row = throughputRow({
    group: "producer",
    name: "HTTP batch 100",
    value: 15_000,
    unit: "payments/s",
    ceiling: { name: "bare kafkajs", value: 20_000 },
  });
  assert.equal(row.ratio, 0.75);
  assert.equal(throughputRow({ group: "g", name: "n", value: 1, unit: "rec/s" }).ratio, undefined);
});

Deno.test("targets are judged: ratio at least, latency strictly below", () => {
  assert.deepEqual(ratioTarget(0.75, 0.7, "bare kafkajs"), {
    text: "≥ 70% of bare kafkajs",
    met: true,
  });
  assert.equal(ratioTarget(0.69, 0.7, "x").met, false);
  assert.equal(ratioTarget(undefined, 0.7, "x").met, false);
  assert.deepEqual(latencyTarget("p99", 14.9, 15), { text: "p99 < 15 ms", met: true });
  assert.equal(latencyTarget("p99", 15, 15).met, false);
  assert.deepEqual(belowTarget(299, 300, "MiB"), { text: "< 300 MiB", met: true });
  assert.equal(belowTarget(300, 300, "MiB").met, false);
  assert.deepEqual(belowTarget(0, 0, "payments"), { text: "= 0", met: true });
  assert.equal(belowTarget(1, 0, "payments").met, false);
});

Deno.test("the table aligns columns and shows ratio, target verdict, RSS and errors", () => {
  const text = formatBenchTable([
    {
      ...throughputRow({
        group: "producer",
        name: "HTTP batch 100",
        value: 15_000,
        unit: "payments/s",
        ceiling: { name: "bare kafkajs", value: 20_000 },
        rssMiB: { producer: 180.4 },
      }),
      target: { text: "≥ 70% of bare kafkajs", met: true },
    },
    {
      group: "e2e",
      name: "p99 at 1000/s",
      value: 312.44,
      unit: "ms",
      target: { text: "p99 < 250 ms", met: false },
    },
    {
      group: "ceiling",
      name: "ProducerPerformance",
      value: 0,
      unit: "rec/s",
      error: "jar missing",
    },
  ]);
  const lines = text.split("\n");
  assert.equal(lines.length, 5);
  assert.match(lines[0]!, /^group\s+\| benchmark\s+\| result/);
  assert.match(
    lines[2]!,
    /15,000 payments\/s \| 20,000 payments\/s \(bare kafkajs\) \| 75%\s+\| MET ≥ 70% of bare kafkajs \| 180\/-/,
  );
  assert.match(lines[3]!, /312\.4 ms .*MISSED p99 < 250 ms/);
  assert.match(lines[4]!, /n\/a .*ERROR: jar missing/);
  const bars = lines.map((l) => [...l.matchAll(/\|/g)].map((m) => m.index));
  assert.deepEqual(bars[2]!.slice(0, 3), bars[0]!.slice(0, 3), "columns line up");
});

Deno.test("the table shows CPU per record and records written per input where a row has them", () => {
  const text = formatBenchTable([
    {
      group: "ceiling",
      name: "loop",
      value: 20_000,
      unit: "rec/s",
      cpuMicrosPerRecord: 57.44,
      writtenPerInput: { records: 2, markers: 0.0123 },
    },
    { group: "ceiling", name: "fast", value: 1, unit: "rec/s", cpuMicrosPerRecord: 4.26 },
    { group: "ceiling", name: "none", value: 1, unit: "rec/s", cpuMicrosPerRecord: NaN },
  ]);
  const [header, , loop, fast, none] = text.split("\n");
  assert.match(header!, /\| CPU µs\/rec \| writes\/rec \(\+markers\) \| notes$/);
  assert.match(loop!, /\| 57\s+\| 2\.00 \(\+0\.012\)\s+\|$/);
  assert.match(fast!, /\| 4\.3\s+\|\s+\|$/);
  assert.doesNotMatch(none!, /NaN/);
});
