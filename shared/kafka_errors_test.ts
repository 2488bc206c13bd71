import assert from "node:assert/strict";
import { createRequire } from "node:module";
import protocolErrors from "kafkajs/src/protocol/error.js";
import { loadSharedConfig as loadConfig } from "./config.ts";
import {
  explainKafkaError,
  isAuthenticationError,
  isProducerFenced,
  isRetriableKafkaError,
  isUnknownTopic,
  protocolErrorType,
  TransientError,
} from "./kafka_errors.ts";

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
const { createErrorFromCode } = protocolErrors as { createErrorFromCode: (code: number) => Error };

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

Deno.test("a TransientError is retriable, by the same rule as Kafka's own errors", () => {
  const error = new TransientError("simulated");
  assert.equal(error.name, "TransientError");
  assert.equal(error.retriable, true);
  assert.equal(isRetriableKafkaError(error), true);
});

Deno.test("a fenced producer is told by the protocol error's type, wrapped or not", () => {
  const epoch = new KafkaJSProtocolError(createErrorFromCode(47));
  assert.equal(epoch.type, "INVALID_PRODUCER_EPOCH");
  const fenced = new KafkaJSProtocolError({
    type: "PRODUCER_FENCED",
    code: 90,
    retriable: false,
    message:
      "There is a newer producer with the same transactionalId which fences the current one.",
  });
  for (const error of [epoch, fenced]) {
    assert.equal(isProducerFenced(error), true);
    // How kafkajs' retrier and our transaction wrapper hand it on.
    assert.equal(isProducerFenced(new KafkaJSNonRetriableError(error, { cause: error })), true);
    assert.equal(isProducerFenced(new Error("transaction aborted", { cause: error })), true);
  }
});

Deno.test("other errors are not fencing, whatever their text says", () => {
  // A leader epoch is the partition's, not the producer's: no fencing of ours.
  assert.equal(isProducerFenced(new KafkaJSProtocolError(createErrorFromCode(74))), false);
  assert.equal(isProducerFenced(new Error("The producer has been fenced (epoch 7)")), false);
  assert.equal(isProducerFenced(new KafkaJSConnectionError("refused")), false);
  assert.equal(isProducerFenced(undefined), false);
  const loop: { cause?: unknown } = {};
  loop.cause = loop;
  assert.equal(isProducerFenced(loop), false);
});

Deno.test("a missing topic is told by the protocol error's type, wrapped or not", () => {
  const unknown = new KafkaJSProtocolError(createErrorFromCode(3));
  assert.equal(unknown.type, "UNKNOWN_TOPIC_OR_PARTITION");
  assert.equal(isUnknownTopic(unknown), true);
  // How kafkajs' retrier hands it on when the admin client gives up.
  assert.equal(isUnknownTopic(new KafkaJSNonRetriableError(unknown, { cause: unknown })), true);
  const exhausted = new KafkaJSNumberOfRetriesExceeded(unknown, {
    retryCount: 0,
    retryTime: 100,
    cause: unknown,
  });
  assert.equal(isUnknownTopic(exhausted), true);
  assert.equal(isUnknownTopic(new KafkaJSConnectionError("refused")), false);
  assert.equal(isUnknownTopic(new Error("This server does not host this topic-partition")), false);
  assert.equal(isUnknownTopic(undefined), false);
});

Deno.test("a protocol error's name is found from its message text", () => {
  assert.equal(
    protocolErrorType("This server is not the leader for that topic-partition"),
    "NOT_LEADER_FOR_PARTITION",
  );
  assert.equal(protocolErrorType("something new"), undefined);
});

const sasl = loadConfig({
  KAFKA_SECURITY_PROTOCOL: "SASL_SSL",
  SASL_MECHANISM: "SCRAM-SHA-512",
  SASL_USERNAME: "payments-app",
  SASL_PASSWORD: "s3cret-pw",
}).kafka;

function saslError(): Error {
  const error = new Error("SASL SCRAM SHA512 authentication failed: Authentication failed");
  error.name = "KafkaJSSASLAuthenticationError";
  return error;
}

Deno.test("a refused login is explained with mechanism and user, never the password", () => {
  const wrapped = Object.assign(new Error("Connection failed"), { originalError: saslError() });
  for (const error of [saslError(), wrapped]) {
    assert.equal(isAuthenticationError(error), true);
    const text = explainKafkaError(error, sasl);
    assert.match(text, /^Kafka refused our credentials: SASL SCRAM-SHA-512 .* user payments-app/);
    assert.doesNotMatch(text, /s3cret-pw/);
  }
});

Deno.test("other Kafka errors are explained as they are", () => {
  const error = new TypeError("connect ECONNREFUSED");
  assert.equal(isAuthenticationError(error), false);
  assert.equal(explainKafkaError(error, sasl), "TypeError: connect ECONNREFUSED");
  assert.equal(explainKafkaError("plain", sasl), "plain");
});

Deno.test("a refused login is explained without any SASL settings as the error itself", () => {
  assert.equal(
    explainKafkaError(saslError(), loadConfig({}).kafka),
    "KafkaJSSASLAuthenticationError: SASL SCRAM SHA512 authentication failed: Authentication failed",
  );
});
