import assert from "node:assert/strict";
import { parseConsumerPerformance, parseProducerPerformance } from "./kafka_tools.ts";

Deno.test("ProducerPerformance's summary line is read: rate, MB/s and percentiles", () => {
  const out = [
    "49873 records sent, 9970.6 records/sec (2.44 MB/sec), 500.1 ms avg latency, 900.0 ms max latency.",
    "200000 records sent, 98814.229249 records/sec (24.22 MB/sec), 60.07 ms avg latency, " +
    "210.00 ms max latency, 51 ms 50th, 120 ms 95th, 155 ms 99th, 200 ms 99.9th.",
  ].join("\n");
  assert.deepEqual(parseProducerPerformance(out), {
    records: 200_000,
    recordsPerSec: 98814.229249,
    mbPerSec: 24.22,
    p50Ms: 51,
    p99Ms: 155,
  });
});

Deno.test("ConsumerPerformance's columns are read by name, fetch rate preferred", () => {
  const out = [
    "WARNING: something",
    "start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, " +
    "rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec",
    "2026-01-01 10:00:00:000, 2026-01-01 10:00:04:000, 49.0, 12.25, 200000, 50000.0, 3000, 1000, " +
    "49.0, 200000.0",
  ].join("\n");
  assert.deepEqual(parseConsumerPerformance(out), {
    records: 200_000,
    recordsPerSec: 200_000,
    mbPerSec: 49,
  });
});

Deno.test("unreadable tool output is an error quoting the output", () => {
  assert.throws(() => parseProducerPerformance("Exception in thread main"), /Exception in thread/);
  assert.throws(() => parseConsumerPerformance("nothing"), /Cannot read ConsumerPerformance/);
});
