import assert from "node:assert/strict";
import { ConfigError } from "@payments/shared/env";
import { loadProducerConfig, redactProducerConfig } from "./config.ts";

Deno.test("loadProducerConfig applies the documented defaults", () => {
  const config = loadProducerConfig({});
  assert.deepEqual(config.apiKeys, []);
  assert.equal(config.maxBodyBytes, 1024 * 1024);
  assert.equal(config.sendTimeoutMs, 5000);
  assert.equal(config.retryAfterSeconds, 5);
  assert.equal(config.source, "payment-producer");
  assert.equal(config.port, 8000);
  assert.deepEqual(config.lagMonitor, { enabled: true, intervalMs: 5000 });
  assert.equal(config.shutdownTimeoutMs, 10000);
  assert.equal(config.maxInflightPayments, 2000);
  assert.equal(config.maxQueuedBytes, 4 * 1024 * 1024);
});

Deno.test("loadProducerConfig reads the admission budgets", () => {
  const config = loadProducerConfig({
    PRODUCER_MAX_INFLIGHT_PAYMENTS: "500",
    PRODUCER_MAX_QUEUED_BYTES: "65536",
  });
  assert.equal(config.maxInflightPayments, 500);
  assert.equal(config.maxQueuedBytes, 65536);
});

Deno.test("loadProducerConfig refuses admission budgets it cannot use, naming the variable", () => {
  for (
    const [variable, value] of [
      ["PRODUCER_MAX_INFLIGHT_PAYMENTS", "499"],
      ["PRODUCER_MAX_INFLIGHT_PAYMENTS", "lots"],
      ["PRODUCER_MAX_QUEUED_BYTES", "0"],
      ["PRODUCER_MAX_QUEUED_BYTES", "1.5"],
      ["PRODUCER_MAX_QUEUED_BYTES", "4M"],
    ]
  ) {
    assert.throws(
      () => loadProducerConfig({ [variable!]: value }),
      (error: unknown) => error instanceof ConfigError && error.message.includes(variable!),
      `${variable}=${value}`,
    );
  }
  assert.throws(
    () => loadProducerConfig({ PRODUCER_MAX_INFLIGHT_PAYMENTS: "100" }),
    /PRODUCER_MAX_INFLIGHT_PAYMENTS: must be at least 500, the largest batch/,
  );
});

Deno.test("loadProducerConfig reads API keys and producer settings", () => {
  const config = loadProducerConfig({
    API_KEYS: " k1 , k2 ,",
    PRODUCER_MAX_BODY_BYTES: "2048",
    PRODUCER_SEND_TIMEOUT_MS: "1500",
    PRODUCER_SOURCE: "api-eu",
  });
  assert.deepEqual(config.apiKeys, ["k1", "k2"]);
  assert.equal(config.maxBodyBytes, 2048);
  assert.equal(config.sendTimeoutMs, 1500);
  assert.equal(config.source, "api-eu");
});

Deno.test("loadProducerConfig names every bad shared and producer variable at once", () => {
  assert.throws(
    () =>
      loadProducerConfig({
        KAFKA_BROKERS: "nope",
        PRODUCER_SEND_TIMEOUT_MS: "-1",
        PRODUCER_SOURCE: "bad source",
      }),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      for (const name of ["KAFKA_BROKERS", "PRODUCER_SEND_TIMEOUT_MS", "PRODUCER_SOURCE"]) {
        assert.match(error.message, new RegExp(name));
      }
      return true;
    },
  );
});

Deno.test("redactProducerConfig masks API keys and the SASL password", () => {
  const config = loadProducerConfig({
    API_KEYS: "secret-key",
    KAFKA_SECURITY_PROTOCOL: "SASL_SSL",
    SASL_MECHANISM: "PLAIN",
    SASL_USERNAME: "u",
    SASL_PASSWORD: "secret-password",
  });
  const text = JSON.stringify(redactProducerConfig(config));
  assert.doesNotMatch(text, /secret-key|secret-password/);
});

Deno.test("loadProducerConfig names a bad PRODUCER_PORT beside bad shared and lag variables", () => {
  assert.equal(loadProducerConfig({ PRODUCER_PORT: "" }).port, 8000, "empty counts as unset");
  assert.equal(loadProducerConfig({ PRODUCER_PORT: "18000" }).port, 18000);
  assert.throws(
    () =>
      loadProducerConfig({
        PRODUCER_PORT: "99999",
        KAFKA_BROKERS: "no-port",
        LAG_MONITOR_INTERVAL_MS: "often",
      }),
    (error: unknown) =>
      error instanceof ConfigError &&
      ["PRODUCER_PORT", "KAFKA_BROKERS", "LAG_MONITOR_INTERVAL_MS"].every((name) =>
        error.message.includes(name)
      ),
  );
});

Deno.test("the producer parses only its own variables: a bad consumer-only setting does not stop it", () => {
  const config = loadProducerConfig({
    CONSUMER_DEDUP_RETENTION: "7",
    CONSUMER_MAX_ATTEMPTS: "many",
    CONSUMER_GROUP_ID: "payments-eu",
  });
  assert.equal(config.consumerGroupId, "payments-eu");
  assert.equal(loadProducerConfig({}).consumerGroupId, "payment-processor");
  assert.equal("dedupRetentionMs" in config, false);
});

Deno.test("shared, lag monitor and producer variables are reported together, each with its accepted form", () => {
  assert.throws(
    () =>
      loadProducerConfig({
        KAFKA_BROKERS: "no-port",
        LAG_MONITOR_ENABLED: "maybe",
        PRODUCER_PORT: "70000",
      }),
    (error: unknown) =>
      error instanceof ConfigError && error.problems.length === 3 &&
      /KAFKA_BROKERS\S*: each broker must be host:port/.test(error.message) &&
      /LAG_MONITOR_ENABLED: .*"true"\|"false"/.test(error.message) &&
      /PRODUCER_PORT: .*65535/.test(error.message),
  );
});

Deno.test("loadProducerConfig runs the probe every 10 s by default, waits 10 s, and 0 turns it off", () => {
  assert.deepEqual(loadProducerConfig({}).probe, { intervalMs: 10_000, timeoutMs: 10_000 });
  assert.deepEqual(
    loadProducerConfig({ PROBE_INTERVAL_MS: "0", PROBE_TIMEOUT_MS: "30000" }).probe,
    { intervalMs: 0, timeoutMs: 30_000 },
  );
  for (
    const [variable, value] of [
      ["PROBE_INTERVAL_MS", "50"],
      ["PROBE_INTERVAL_MS", "-1"],
      ["PROBE_INTERVAL_MS", "often"],
      ["PROBE_TIMEOUT_MS", "30001"],
      ["PROBE_TIMEOUT_MS", "0"],
    ]
  ) {
    assert.throws(
      () => loadProducerConfig({ [variable!]: value }),
      (error: unknown) => error instanceof ConfigError && error.message.includes(variable!),
      `${variable}=${value}`,
    );
  }
});
