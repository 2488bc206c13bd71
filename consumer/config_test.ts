import assert from "node:assert/strict";
import { ConfigError } from "@payments/shared/env";
import { loadConsumerSettings } from "./config.ts";

Deno.test("consumer settings default to no simulated latency or failures", () => {
  const settings = loadConsumerSettings({});
  assert.equal(settings.port, 8001);
  assert.deepEqual(settings.simulatedLatencyMs, { min: 0, max: 0 });
  assert.equal(settings.failureRate, 0);
  assert.equal(settings.maxAttempts, 3);
  assert.equal(settings.rules.defaultAmountLimit, 5000);
});

Deno.test("consumer settings parse limits, blocklist and latency ranges", () => {
  const settings = loadConsumerSettings({
    CONSUMER_AMOUNT_LIMITS: "usd:100, EUR:50.5",
    CONSUMER_BLOCKED_MERCHANTS: "M-1,M-2",
    CONSUMER_SIMULATED_LATENCY_MS: "100-500",
    CONSUMER_FAILURE_RATE: "0.25",
  });
  assert.deepEqual(settings.rules.amountLimits, { USD: 100, EUR: 50.5 });
  assert.ok(settings.rules.blockedMerchants.has("M-2"));
  assert.deepEqual(settings.simulatedLatencyMs, { min: 100, max: 500 });
  assert.equal(settings.failureRate, 0.25);
});

Deno.test("bad consumer settings fail with one error naming each variable", () => {
  assert.throws(
    () =>
      loadConsumerSettings({
        CONSUMER_AMOUNT_LIMITS: "USD=1",
        CONSUMER_FAILURE_RATE: "2",
        CONSUMER_SESSION_TIMEOUT_MS: "1000",
        CONSUMER_SIMULATED_LATENCY_MS: "500-100",
      }),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      for (
        const name of [
          "CONSUMER_AMOUNT_LIMITS",
          "CONSUMER_FAILURE_RATE",
          "CONSUMER_SESSION_TIMEOUT_MS",
          "CONSUMER_SIMULATED_LATENCY_MS",
        ]
      ) assert.match(error.message, new RegExp(name));
      return true;
    },
  );
});

Deno.test("transactional retries start at 20 ms by default and are configurable", () => {
  assert.deepEqual(loadConsumerSettings({}).transactionRetry, {
    initialRetryTimeMs: 20,
    retries: 10,
  });
  assert.deepEqual(
    loadConsumerSettings({
      CONSUMER_TRANSACTION_RETRY_INITIAL_MS: "100",
      CONSUMER_TRANSACTION_RETRIES: "3",
    }).transactionRetry,
    { initialRetryTimeMs: 100, retries: 3 },
  );
  assert.throws(
    () => loadConsumerSettings({ CONSUMER_TRANSACTION_RETRIES: "0" }),
    /CONSUMER_TRANSACTION_RETRIES/,
  );
});

Deno.test("CONSUMER_PORT is the consumer's own setting, and a bad one names the variable", () => {
  assert.equal(loadConsumerSettings({ CONSUMER_PORT: "18001" }).port, 18001);
  assert.equal(loadConsumerSettings({ CONSUMER_PORT: " " }).port, 8001, "blank counts as unset");
  assert.throws(() => loadConsumerSettings({ CONSUMER_PORT: "0" }), /CONSUMER_PORT/);
});
