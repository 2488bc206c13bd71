import assert from "node:assert/strict";
import { parsePortArgument } from "./cli.ts";

Deno.test("a port argument is a whole number from 1 to 65535, and a bad one names where it came from", () => {
  assert.equal(parsePortArgument("9092", "KAFKA_PORT / --port"), 9092);
  assert.equal(parsePortArgument("65535", "X"), 65535);
  for (const bad of ["0", "65536", "80.5", "http", ""]) {
    assert.throws(
      () => parsePortArgument(bad, "JAEGER_QUERY_PORT"),
      { message: `JAEGER_QUERY_PORT must be a TCP port (1-65535), got "${bad}"` },
    );
  }
});
