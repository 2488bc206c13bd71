import assert from "node:assert/strict";
import { KafkaCodecError } from "@payments/shared/kafka_codecs";
import { describeCrashCause } from "./crash.ts";

/** An error shaped like kafkajs' (its classes are not exported). */
function kafkajsError(name: string, message: string, fields: Record<string, unknown> = {}) {
  return Object.assign(new Error(message), { name, ...fields });
}

Deno.test("a crash cause names the innermost error once, with Kafka's error code", () => {
  const codec = new KafkaCodecError(
    "Cannot decompress a lz4 record batch of 37 bytes: invalid magic number",
  );
  const wrapper = kafkajsError("KafkaJSNonRetriableError", codec.message, { cause: codec });
  assert.equal(
    describeCrashCause(wrapper),
    "KafkaCodecError: Cannot decompress a lz4 record batch of 37 bytes: invalid magic number",
  );
  const protocol = kafkajsError(
    "KafkaJSProtocolError",
    "The group member's supported protocols are incompatible with those of existing members",
    { type: "INCONSISTENT_GROUP_PROTOCOL", retriable: false },
  );
  assert.equal(
    describeCrashCause(protocol),
    "KafkaJSProtocolError [INCONSISTENT_GROUP_PROTOCOL]: The group member's supported protocols " +
      "are incompatible with those of existing members",
  );
});

Deno.test("a crash cause keeps a wrapper that says more than what it wraps", () => {
  const inner = new Error("socket hang up");
  const outer = new Error("Cannot fetch payment_requests", { cause: inner });
  assert.equal(
    describeCrashCause(outer),
    "Error: Cannot fetch payment_requests (caused by Error: socket hang up)",
  );
  assert.equal(describeCrashCause("a string"), "a string");
});
