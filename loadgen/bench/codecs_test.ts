import assert from "node:assert/strict";
import { codecNote, codecRowName } from "./codecs.ts";

const figures = (codec: "none" | "zstd", bytesPerPayment: number) => ({
  codec,
  batch: 100,
  paymentsPerSec: 5000,
  bytesPerPayment,
  cpuMsPer1000: 180.4,
});

Deno.test("a codec row names the codec and the request shape", () => {
  assert.equal(
    codecRowName("snappy", 100, 4),
    "producer KAFKA_COMPRESSION=snappy, HTTP batch 100, concurrency 4",
  );
});

Deno.test("a codec note gives bytes per payment against none and the producer's CPU", () => {
  assert.equal(
    codecNote(figures("zstd", 103.2), figures("none", 412)),
    "103 B/payment on disk (25% of none), producer CPU 180 ms per 1000 payments",
  );
  assert.match(codecNote(figures("none", 412), figures("none", 412)), /^412 B\/payment on disk,/);
});
