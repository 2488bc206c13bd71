/**
 * The consumer's configuration, one typed object resolved once at start
 * ({@linkcode loadConsumerConfig}): what every service reads the same way (Kafka,
 * topics, logs: `@payments/shared/config`), the lag monitor's settings
 * (`@payments/lag/config`), and the consumer's own: its group, the de-duplication
 * retention, the HTTP port, business rules, simulated latency and failures, retries,
 * the state directory, standbys and the de-duplication cache. Every bad variable is
 * reported at once.
 *
 * @module
 */
import { z } from "zod";
import { type LagMonitorSettings, loadLagMonitorSettings } from "@payments/lag/config";
import { loadSharedConfig, type SharedConfig } from "@payments/shared/config";
import { type Env, listVar, loadAll, millisVar, parseEnv, portVar } from "@payments/shared/env";
import { dedupRetentionVar, type TopicNames } from "@payments/shared/topics";

/** The deterministic business rules of the processor. */
export interface Rules {
  /** Largest amount approved per currency; currencies not listed use `defaultAmountLimit`. */
  amountLimits: Readonly<Record<string, number>>;
  defaultAmountLimit: number;
  /** Merchants whose payments are always declined. */
  blockedMerchants: ReadonlySet<string>;
  /**
   * A customer's payments created within one minute of each other above this count are
   * declined (a minute either side of each payment's `created_at`).
   */
  velocityMaxPerMinute: number;
}

/**
 * kafkajs' retry policy for the transactional producers. The first retry matters
 * most: a transaction that starts right after the previous commit is answered
 * CONCURRENT_TRANSACTIONS until the broker has written that commit's markers, a few
 * milliseconds later. kafkajs' default first retry (300 ms) put that wait on the
 * end-to-end tail; the Java client retries this error after 20 ms. Later retries
 * double (kafkajs' multiplier 2, jitter 0.2, at most 30 s apart), so the default of
 * 10 retries waits about 20 s in all before a send fails and the worker retries the
 * transaction itself.
 */
export interface TransactionRetry {
  initialRetryTimeMs: number;
  retries: number;
}

/** Fully resolved consumer settings (the consumer's own variables). */
export interface ConsumerSettings {
  /** The consumer group (`CONSUMER_GROUP_ID`). */
  consumerGroupId: string;
  /**
   * How long a payment id is remembered (`CONSUMER_DEDUP_RETENTION`): the stores forget
   * older claims and decisions, and the internal topics keep records this long.
   */
  dedupRetentionMs: number;
  /** HTTP port of metrics, health and readiness (`CONSUMER_PORT`). */
  port: number;
  rules: Rules;
  /** Simulated processing latency per payment, uniform in [min, max] ms (0 = off). */
  simulatedLatencyMs: { min: number; max: number };
  /** Probability (0..1) that one processing attempt fails transiently (0 = off). */
  failureRate: number;
  /** Attempts for a transiently failing payment before it is dead-lettered. */
  maxAttempts: number;
  retryBackoffMs: number;
  retryBackoffMaxMs: number;
  /**
   * Recently decided payment ids cached in memory per partition, in front of the
   * partition stores: speed only, never an outcome.
   */
  dedupWindow: number;
  /** Where the partition stores live (one folder per consumer group). */
  stateDir: string;
  partitionsConsumedConcurrently: number;
  /** Most input records committed in one transaction. */
  maxRecordsPerTransaction: number;
  sessionTimeoutMs: number;
  transactionTimeoutMs: number;
  /** How the transactional producers retry a request Kafka answered with a retriable error. */
  transactionRetry: TransactionRetry;
  shutdownTimeoutMs: number;
  /** Standby copies kept of each task's store on other instances (`CONSUMER_STANDBY_REPLICAS`). */
  standbyReplicas: number;
  /**
   * Where other services reach this instance's HTTP server to read its stores
   * (`CONSUMER_ADVERTISED_URL`), told to the group when it joins.
   */
  advertisedUrl: string;
}

/**
 * The address this instance advertises when `CONSUMER_ADVERTISED_URL` is unset: its
 * first non-loopback IPv4 address (a container's address on its network, which every
 * other container reaches, where a container id as host name may not resolve), else
 * its host name.
 */
export function defaultAdvertisedHost(): string {
  const address = Deno.networkInterfaces().find((i) =>
    i.family === "IPv4" && !i.address.startsWith("127.")
  );
  return address?.address ?? Deno.hostname();
}

const amountLimits = listVar.transform((items, ctx) => {
  const limits: Record<string, number> = {};
  for (const item of items) {
    const match = /^([A-Za-z]{3}):(\d+(?:\.\d+)?)$/.exec(item);
    if (!match) {
      ctx.addIssue({ code: "custom", message: `"${item}" is not CURRENCY:LIMIT (e.g. USD:5000)` });
      return z.NEVER;
    }
    limits[match[1]!.toUpperCase()] = Number(match[2]);
  }
  return limits;
});

const latency = z.string().trim().transform((value, ctx) => {
  const match = /^(\d+)(?:-(\d+))?$/.exec(value);
  if (!match) {
    ctx.addIssue({ code: "custom", message: `"${value}" is not MS or MIN-MAX (e.g. 100-500)` });
    return z.NEVER;
  }
  const min = Number(match[1]);
  const max = match[2] === undefined ? min : Number(match[2]);
  if (max < min) {
    ctx.addIssue({ code: "custom", message: `max ${max} is below min ${min}` });
    return z.NEVER;
  }
  return { min, max };
});

const count = z.coerce.number().int().positive();

const schema = z.object({
  CONSUMER_GROUP_ID: z.string().min(1).default("payment-processor"),
  CONSUMER_DEDUP_RETENTION: dedupRetentionVar,
  CONSUMER_PORT: portVar.default(8001),
  CONSUMER_AMOUNT_LIMITS: amountLimits.default({}),
  CONSUMER_DEFAULT_AMOUNT_LIMIT: z.coerce.number().positive().default(5000),
  CONSUMER_BLOCKED_MERCHANTS: listVar.default([]),
  CONSUMER_VELOCITY_MAX_PER_MINUTE: count.default(10),
  CONSUMER_SIMULATED_LATENCY_MS: latency.default({ min: 0, max: 0 }),
  CONSUMER_FAILURE_RATE: z.coerce.number().min(0).max(1).default(0),
  CONSUMER_MAX_ATTEMPTS: count.default(3),
  CONSUMER_RETRY_BACKOFF_MS: millisVar.default(100),
  CONSUMER_RETRY_BACKOFF_MAX_MS: millisVar.default(2000),
  CONSUMER_DEDUP_WINDOW: count.default(10_000),
  CONSUMER_STATE_DIR: z.string().default(".data/consumer-state"),
  // Both kinds of task of the default six partitions at once: with 6, half the tasks
  // waited a turn in each fetch (end-to-end median at 1,000/s 130-178 ms against 92-106,
  // docs/benchmarks.md).
  CONSUMER_PARTITIONS_CONCURRENTLY: count.default(12),
  CONSUMER_MAX_RECORDS_PER_TRANSACTION: count.default(500),
  CONSUMER_SESSION_TIMEOUT_MS: z.coerce.number().int().min(6000).default(30000),
  CONSUMER_TRANSACTION_TIMEOUT_MS: millisVar.default(60000),
  CONSUMER_TRANSACTION_RETRY_INITIAL_MS: millisVar.default(20),
  CONSUMER_TRANSACTION_RETRIES: count.default(10),
  CONSUMER_SHUTDOWN_TIMEOUT_MS: millisVar.default(25000),
  CONSUMER_STANDBY_REPLICAS: z.coerce.number().int().min(0).max(3).default(1),
  CONSUMER_ADVERTISED_URL: z.url({
    protocol: /^https?$/,
    error: "must be an http:// or https:// URL such as http://consumer-1:8001",
  }).optional(),
});

/**
 * Resolves the consumer settings from an environment; pure. Throws a `ConfigError`
 * naming every bad variable.
 *
 * @example
 * ```ts
 * loadConsumerSettings({ CONSUMER_BLOCKED_MERCHANTS: "M-9,M-13" }).rules.blockedMerchants;
 * ```
 */
export function loadConsumerSettings(
  env: Env,
  host: () => string = defaultAdvertisedHost,
): ConsumerSettings {
  const vars = parseEnv(schema, env);
  return {
    consumerGroupId: vars.CONSUMER_GROUP_ID,
    dedupRetentionMs: vars.CONSUMER_DEDUP_RETENTION,
    port: vars.CONSUMER_PORT,
    rules: {
      amountLimits: vars.CONSUMER_AMOUNT_LIMITS,
      defaultAmountLimit: vars.CONSUMER_DEFAULT_AMOUNT_LIMIT,
      blockedMerchants: new Set(vars.CONSUMER_BLOCKED_MERCHANTS),
      velocityMaxPerMinute: vars.CONSUMER_VELOCITY_MAX_PER_MINUTE,
    },
    simulatedLatencyMs: vars.CONSUMER_SIMULATED_LATENCY_MS,
    failureRate: vars.CONSUMER_FAILURE_RATE,
    maxAttempts: vars.CONSUMER_MAX_ATTEMPTS,
    retryBackoffMs: vars.CONSUMER_RETRY_BACKOFF_MS,
    retryBackoffMaxMs: vars.CONSUMER_RETRY_BACKOFF_MAX_MS,
    dedupWindow: vars.CONSUMER_DEDUP_WINDOW,
    stateDir: vars.CONSUMER_STATE_DIR,
    partitionsConsumedConcurrently: vars.CONSUMER_PARTITIONS_CONCURRENTLY,
    maxRecordsPerTransaction: vars.CONSUMER_MAX_RECORDS_PER_TRANSACTION,
    sessionTimeoutMs: vars.CONSUMER_SESSION_TIMEOUT_MS,
    transactionTimeoutMs: vars.CONSUMER_TRANSACTION_TIMEOUT_MS,
    transactionRetry: {
      initialRetryTimeMs: vars.CONSUMER_TRANSACTION_RETRY_INITIAL_MS,
      retries: vars.CONSUMER_TRANSACTION_RETRIES,
    },
    shutdownTimeoutMs: vars.CONSUMER_SHUTDOWN_TIMEOUT_MS,
    standbyReplicas: vars.CONSUMER_STANDBY_REPLICAS,
    advertisedUrl: (vars.CONSUMER_ADVERTISED_URL ?? `http://${host()}:${vars.CONSUMER_PORT}`)
      .replace(/\/+$/, ""),
  };
}

/** What the consumer service is built from: its settings, its topics and the lag monitor's. */
export interface ServiceConfig extends ConsumerSettings {
  topics: TopicNames;
  lagMonitor: LagMonitorSettings;
}

/** The consumer's whole configuration. */
export interface ConsumerConfig extends SharedConfig, ServiceConfig {}

/**
 * Resolves the consumer's whole configuration from an environment; pure but for the
 * default advertised address (`host`). Throws one `ConfigError` naming every bad
 * variable of every part.
 *
 * @example
 * ```ts
 * const config = loadConsumerConfig(Deno.env.toObject());
 * config.consumerGroupId; // "payment-processor"
 * ```
 */
export function loadConsumerConfig(
  env: Env,
  host: () => string = defaultAdvertisedHost,
): ConsumerConfig {
  const [shared, settings, lagMonitor] = loadAll(
    () => loadSharedConfig(env),
    () => loadConsumerSettings(env, host),
    () => loadLagMonitorSettings(env),
  );
  return { ...shared, ...settings, lagMonitor };
}
