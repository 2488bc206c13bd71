/**
 * Producer settings, parsed here into one {@linkcode ProducerConfig}: what every service
 * reads the same way (`@payments/shared/config`: Kafka, topics, logs), the lag monitor's
 * settings (`@payments/lag/config`) and the producer's own variables. Every bad variable
 * of all three is reported at once.
 *
 * | variable | default | meaning |
 * | --- | --- | --- |
 * | `PRODUCER_PORT` | `8000` | HTTP port |
 * | `CONSUMER_GROUP_ID` | `payment-processor` | the consumer group whose lag the producer watches (the consumer's own group id) |
 * | `API_KEYS` | unset (open) | comma-separated keys; when set, `/payments*` and `/stats` need `Authorization: Bearer <key>` |
 * | `PRODUCER_MAX_BODY_BYTES` | `1048576` (1 MiB) | largest request body accepted; larger ones get 413 |
 * | `PRODUCER_SEND_TIMEOUT_MS` | `5000` | how long a request waits for Kafka to acknowledge its payments before answering 503 |
 * | `PRODUCER_RETRY_AFTER_SECONDS` | `5` | `Retry-After` sent with 503 answers |
 * | `PRODUCER_SOURCE` | `payment-producer` | the `source` field and record header of every payment |
 * | `PRODUCER_READY_INTERVAL_MS` | `5000` | how often readiness re-checks that Kafka answers with the topic's metadata |
 * | `PRODUCER_SHUTDOWN_TIMEOUT_MS` | `10000` | on SIGINT/SIGTERM, the longest wait for in-flight requests and the disconnect |
 * | `PRODUCER_MAX_INFLIGHT_PAYMENTS` | `2000` | most payments handed to Kafka and not yet acknowledged; a request that does not fit is shed (503 `overloaded`, nothing written); at least the largest batch (500). The default keeps the publisher's sends full (one of 1,000 records under way, the next one waiting) while an admitted request waits behind at most 2,000 payments |
 * | `PRODUCER_MAX_QUEUED_BYTES` | `4194304` (4 MiB) | most body bytes (by `Content-Length`; a body without one counts as `PRODUCER_MAX_BODY_BYTES`) of payment requests being read, parsed and validated at once; a request that does not fit is shed before its body is read |
 * | `PROBE_INTERVAL_MS` | `10000` | how often the end-to-end probe sends a synthetic payment through this API and waits for its decision (`probe/`); `0` turns it off, else at least 100 |
 * | `PROBE_TIMEOUT_MS` | `10000` | how long a probe waits for its decision (the `?wait=` of its status read, at most 30000) before it counts as failed |
 *
 * @module
 */
import { z } from "zod";
import { type LagMonitorSettings, loadLagMonitorSettings } from "@payments/lag/config";
import { loadSharedConfig, redactConfig, type SharedConfig } from "@payments/shared/config";
import { type Env, listVar, loadAll, millisVar, parseEnv, portVar } from "@payments/shared/env";
import { MAX_BATCH_SIZE } from "@payments/shared/payment";

/** Everything the producer needs, resolved once at start. */
export interface ProducerConfig extends SharedConfig {
  /** HTTP port (`PRODUCER_PORT`). */
  port: number;
  /** The producer monitors the consumer group's lag too (see `main.ts`). */
  lagMonitor: LagMonitorSettings;
  /** The group whose lag it monitors (`CONSUMER_GROUP_ID`). */
  consumerGroupId: string;
  /** Accepted API keys; empty means authentication is off. */
  apiKeys: string[];
  maxBodyBytes: number;
  sendTimeoutMs: number;
  retryAfterSeconds: number;
  source: string;
  readyIntervalMs: number;
  shutdownTimeoutMs: number;
  /** Admission control: see `admission.ts`. */
  maxInflightPayments: number;
  maxQueuedBytes: number;
  /** The end-to-end probe: see `probe/probe.ts`. */
  probe: ProbeSettings;
}

/** When the probe runs and how long it waits for a decision. */
export interface ProbeSettings {
  /** Milliseconds between two probes; 0: no probe. */
  intervalMs: number;
  /** Longest wait for a probe payment's decision, in milliseconds. */
  timeoutMs: number;
}

const schema = z.object({
  PRODUCER_PORT: portVar.default(8000),
  CONSUMER_GROUP_ID: z.string().default("payment-processor"),
  API_KEYS: listVar.default([]),
  PRODUCER_MAX_BODY_BYTES: z.coerce.number().int().min(1024).max(64 * 1024 * 1024)
    .default(1024 * 1024),
  PRODUCER_SEND_TIMEOUT_MS: millisVar.default(5000),
  PRODUCER_RETRY_AFTER_SECONDS: z.coerce.number().int().min(1).max(3600).default(5),
  PRODUCER_SOURCE: z.string().regex(/^[A-Za-z0-9._:-]{1,64}$/, "must be 1-64 of [A-Za-z0-9._:-]")
    .default("payment-producer"),
  PRODUCER_READY_INTERVAL_MS: millisVar.default(5000),
  PRODUCER_SHUTDOWN_TIMEOUT_MS: millisVar.default(10000),
  // A batch larger than the budget could never be admitted, even by an idle producer.
  PRODUCER_MAX_INFLIGHT_PAYMENTS: z.coerce.number().int()
    .min(MAX_BATCH_SIZE, `must be at least ${MAX_BATCH_SIZE}, the largest batch`)
    .max(10_000_000).default(2000),
  PRODUCER_MAX_QUEUED_BYTES: z.coerce.number().int().min(1024).max(1024 * 1024 * 1024)
    .default(4 * 1024 * 1024),
  PROBE_INTERVAL_MS: z.coerce.number().int().min(0).max(3_600_000)
    .refine((ms) => ms === 0 || ms >= 100, "must be 0 (off) or at least 100")
    .default(10_000),
  // The status route waits at most 30 s for a decision.
  PROBE_TIMEOUT_MS: z.coerce.number().int().min(100).max(30_000).default(10_000),
});

/**
 * Resolves the producer configuration from an environment. Pure; throws one
 * {@linkcode ConfigError} naming every bad variable, shared or producer-specific.
 *
 * @example
 * ```ts
 * const config = loadProducerConfig({ API_KEYS: "k1,k2" });
 * config.apiKeys; // ["k1", "k2"]
 * ```
 */
export function loadProducerConfig(env: Env): ProducerConfig {
  const [shared, lagMonitor, own] = loadAll<
    [SharedConfig, LagMonitorSettings, z.output<typeof schema>]
  >(
    () => loadSharedConfig(env),
    () => loadLagMonitorSettings(env),
    () => parseEnv(schema, env),
  );
  return {
    ...shared,
    port: own.PRODUCER_PORT,
    lagMonitor,
    consumerGroupId: own.CONSUMER_GROUP_ID,
    apiKeys: own.API_KEYS,
    maxBodyBytes: own.PRODUCER_MAX_BODY_BYTES,
    sendTimeoutMs: own.PRODUCER_SEND_TIMEOUT_MS,
    retryAfterSeconds: own.PRODUCER_RETRY_AFTER_SECONDS,
    source: own.PRODUCER_SOURCE,
    readyIntervalMs: own.PRODUCER_READY_INTERVAL_MS,
    shutdownTimeoutMs: own.PRODUCER_SHUTDOWN_TIMEOUT_MS,
    maxInflightPayments: own.PRODUCER_MAX_INFLIGHT_PAYMENTS,
    maxQueuedBytes: own.PRODUCER_MAX_QUEUED_BYTES,
    probe: { intervalMs: own.PROBE_INTERVAL_MS, timeoutMs: own.PROBE_TIMEOUT_MS },
  };
}

/** A copy safe to log: API keys and the SASL password are masked. */
export function redactProducerConfig(config: ProducerConfig): ProducerConfig {
  return { ...redactConfig(config), apiKeys: config.apiKeys.map(() => "***") };
}
