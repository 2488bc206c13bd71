import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { isRetriableKafkaError } from "./publisher.ts";

// kafkajs re-exports its error classes with an object spread, which Deno's named
// CommonJS export detection cannot see; load them the CommonJS way.
const {
  KafkaJSConnectionError,
  KafkaJSError,
  KafkaJSNonRetriableError,
  KafkaJSNumberOfRetriesExceeded,
  KafkaJSProtocolError,
  // deno-lint-ignore no-explicit-any
} = createRequire(import.meta.url)("kafkajs") as Record<string, any>;

Deno.test("connection errors, timeouts and exhausted retries are retriable", () => {
  assert.equal(isRetriableKafkaError(new KafkaJSConnectionError("refused")), true);
  assert.equal(isRetriableKafkaError(new KafkaJSError("leader not available")), true);
  const exhausted = new KafkaJSNumberOfRetriesExceeded(new KafkaJSConnectionError("refused"), {
    retryCount: 3,
    retryTime: 100,
  });
  assert.equal(isRetriableKafkaError(exhausted), true);
});

Deno.test("permanent refusals and bugs are not retriable", () => {
  const denied = new KafkaJSProtocolError({
    type: "TOPIC_AUTHORIZATION_FAILED",
    code: 29,
    retriable: false,
    message: "Not authorized",
  } as never);
  assert.equal(isRetriableKafkaError(denied), false);
  assert.equal(isRetriableKafkaError(new KafkaJSNonRetriableError(denied)), false);
  assert.equal(isRetriableKafkaError(new TypeError("x is undefined")), false);
  assert.equal(isRetriableKafkaError("text"), false);
});
