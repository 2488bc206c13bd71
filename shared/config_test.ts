import assert from "node:assert/strict";
import {
  DEFAULT_KAFKA_COMPRESSION,
  loadSharedConfig as loadConfig,
  parseBrokers,
  redactConfig,
} from "./config.ts";
import { ConfigError } from "./env.ts";
import { KAFKA_COMPRESSIONS } from "./kafka_codecs.ts";

Deno.test("an empty environment resolves to the documented defaults", () => {
  const config = loadConfig({});
  assert.deepEqual(config.kafka.brokers, ["localhost:9092"]);
  assert.equal(config.kafka.securityProtocol, "PLAINTEXT");
  assert.equal(config.kafka.sasl, undefined);
  assert.deepEqual(config.topics, {
    requests: "payment_requests",
    results: "payment_results",
    dlq: "payment_requests.dlq",
    decisions: "payment_decisions",
    byCustomer: "payment_requests.by_customer",
    customerDecisions: "payment_decisions.by_customer",
  });
  assert.deepEqual(config.log, { level: "info", format: "json" });
  assert.equal(config.kafka.compression, DEFAULT_KAFKA_COMPRESSION);
});

Deno.test("KAFKA_COMPRESSION takes each of Kafka's codec names, in any case", () => {
  for (const name of KAFKA_COMPRESSIONS) {
    assert.equal(loadConfig({ KAFKA_COMPRESSION: name }).kafka.compression, name);
    assert.equal(
      loadConfig({ KAFKA_COMPRESSION: ` ${name.toUpperCase()} ` }).kafka.compression,
      name,
    );
  }
});

Deno.test("an unknown KAFKA_COMPRESSION stops the start with one sentence naming it and the choices", () => {
  for (const value of ["brotli", "snappy,lz4", "zstd:3", "true"]) {
    assert.throws(
      () => loadConfig({ KAFKA_COMPRESSION: value }),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.deepEqual(error.problems, [
          `KAFKA_COMPRESSION: must be one of none, gzip, snappy, lz4, zstd (got ${
            JSON.stringify(value)
          })`,
        ]);
        return true;
      },
    );
  }
});

Deno.test("the lab's Confluent Cloud variables are accepted unchanged", () => {
  const config = loadConfig({
    BOOTSTRAP_SERVERS: "pkc-1.confluent.cloud:9092",
    SECURITY_PROTOCOL: "SASL_SSL",
    SASL_MECHANISMS: "PLAIN",
    SASL_USERNAME: "key",
    SASL_PASSWORD: "secret",
  });
  assert.deepEqual(config.kafka.brokers, ["pkc-1.confluent.cloud:9092"]);
  assert.equal(config.kafka.securityProtocol, "SASL_SSL");
  assert.deepEqual(config.kafka.sasl, { mechanism: "PLAIN", username: "key", password: "secret" });
});

Deno.test("our own variable names win over the lab's aliases", () => {
  const config = loadConfig({ KAFKA_BROKERS: "a:1,b:2", BOOTSTRAP_SERVERS: "c:3" });
  assert.deepEqual(config.kafka.brokers, ["a:1", "b:2"]);
});

Deno.test("one error names every bad variable and never echoes the password", () => {
  let message = "";
  try {
    loadConfig({
      KAFKA_BROKERS: "no-port",
      KAFKA_SECURITY_PROTOCOL: "SASL_SSL",
      SASL_PASSWORD: "hunter2",
      KAFKA_CONNECTION_TIMEOUT_MS: "soon",
      LOG_FORMAT: "xml",
    });
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    message = error.message;
  }
  for (
    const name of [
      "KAFKA_BROKERS",
      "SASL_MECHANISM",
      "SASL_USERNAME",
      "KAFKA_CONNECTION_TIMEOUT_MS",
    ]
  ) {
    assert.match(message, new RegExp(name));
  }
  assert.match(message, /LOG_FORMAT/);
  assert.doesNotMatch(message, /hunter2/);
});

Deno.test("empty variables count as unset, as in .env files", () => {
  const config = loadConfig({ KAFKA_CLIENT_ID: "", LOG_LEVEL: " " });
  assert.deepEqual([config.kafka.clientId, config.log.level], ["payments", "info"]);
});

Deno.test("LOG_LEVEL accepts warn as an alias of warning, in any case", () => {
  assert.equal(loadConfig({ LOG_LEVEL: "WARN" }).log.level, "warning");
});

Deno.test("redactConfig masks the SASL password", () => {
  const config = loadConfig({
    KAFKA_SECURITY_PROTOCOL: "SASL_PLAINTEXT",
    SASL_MECHANISM: "scram-sha-512",
    SASL_USERNAME: "u",
    SASL_PASSWORD: "p4ss",
  });
  assert.equal(config.kafka.sasl?.mechanism, "SCRAM-SHA-512");
  assert.doesNotMatch(JSON.stringify(redactConfig(config)), /p4ss/);
});

Deno.test("a broker list is read the same wherever brokers are given", () => {
  assert.deepEqual(parseBrokers(" a:9092, b:9093 ,"), ["a:9092", "b:9093"]);
  for (const bad of ["", " , ", "no-port", "a:9092,b", "a b:1"]) {
    assert.equal(parseBrokers(bad), undefined, JSON.stringify(bad));
  }
});
