/**
 * Configuration shared by every service: Kafka connection and security, topic
 * names and logging ({@linkcode loadSharedConfig}). Each service's own settings (its
 * port among them) live in its config module, which adds its own variables to these
 * and reuses {@linkcode parseEnv}; the lag monitor's are `@payments/lag/config`.
 *
 * @module
 */
import { z } from "zod";
import { DEFAULT_TOPICS, type TopicNames } from "./topics.ts";
import { ConfigError, type Env, listVar, millisVar, parseEnv } from "./env.ts";
import { KAFKA_COMPRESSIONS, type KafkaCompression } from "./kafka_codecs.ts";

/** How the client talks to the brokers. */
export type SecurityProtocol = "PLAINTEXT" | "SSL" | "SASL_PLAINTEXT" | "SASL_SSL";
/** SASL mechanisms kafkajs supports that we allow. */
export type SaslMechanism = "PLAIN" | "SCRAM-SHA-256" | "SCRAM-SHA-512";

/** Fully resolved Kafka connection settings. */
export interface KafkaSettings {
  brokers: string[];
  clientId: string;
  securityProtocol: SecurityProtocol;
  /** Present for SASL_* protocols. */
  sasl?: { mechanism: SaslMechanism; username: string; password: string };
  /** Path of the PEM CA bundle for SSL/SASL_SSL, when one is configured (main.ts reads it). */
  caFile?: string;
  connectionTimeoutMs: number;
  requestTimeoutMs: number;
  /** The codec of every record batch the services write (`KAFKA_COMPRESSION`); they
   * read all of them whatever this says. */
  compression: KafkaCompression;
}

/**
 * `KAFKA_COMPRESSION` when unset, chosen with `deno task bench --only codecs`: at batch 100
 * zstd stored 9% of the uncompressed bytes per payment (snappy 16%, lz4 15%, gzip 10%)
 * at 95% of the uncompressed throughput, like snappy and ahead of gzip and lz4, for the
 * same producer CPU (a provisional run on a busy machine; docs/benchmarks.md). Every
 * Kafka client since 2.1 reads zstd; the services read every codec whatever this says.
 */
export const DEFAULT_KAFKA_COMPRESSION: KafkaCompression = "zstd";

/** Log output settings. */
export interface LogSettings {
  level: "trace" | "debug" | "info" | "warning" | "error" | "fatal";
  format: "json" | "pretty";
  /** Optional rotating log file path. */
  file?: string;
}

/** What every service reads the same way: Kafka, topics, logs. */
export interface SharedConfig {
  kafka: KafkaSettings;
  topics: TopicNames;
  log: LogSettings;
}

const broker = z.string().regex(/^[^\s:,]+:\d{1,5}$/, "each broker must be host:port");

/** `KAFKA_BROKERS`' format: a comma-separated list of at least one `host:port`. */
export const brokersVar = listVar.pipe(z.array(broker).min(1, "at least one broker is required"));

/**
 * The brokers of a `KAFKA_BROKERS`-style list (what every tool that takes brokers
 * reads), or `undefined` when it is not a list of `host:port`.
 *
 * @example
 * ```ts
 * parseBrokers(" a:9092, b:9093 "); // ["a:9092", "b:9093"]
 * parseBrokers("no-port"); // undefined
 * ```
 */
export function parseBrokers(text: string): string[] | undefined {
  const result = brokersVar.safeParse(text);
  return result.success ? result.data : undefined;
}
const protocols = ["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] as const;
const mechanisms = ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] as const;
const upper = (values: readonly [string, ...string[]]) =>
  z.string().trim().toUpperCase().pipe(z.enum(values));

const schema = z.object({
  KAFKA_BROKERS: brokersVar.default(["localhost:9092"]),
  KAFKA_CLIENT_ID: z.string().default("payments"),
  KAFKA_SECURITY_PROTOCOL: upper(protocols).default("PLAINTEXT"),
  SASL_MECHANISM: upper(mechanisms).optional(),
  SASL_USERNAME: z.string().optional(),
  SASL_PASSWORD: z.string().optional(),
  KAFKA_SSL_CA_FILE: z.string().optional(),
  KAFKA_CONNECTION_TIMEOUT_MS: millisVar.default(3000),
  KAFKA_REQUEST_TIMEOUT_MS: millisVar.default(10000),
  KAFKA_COMPRESSION: z.string().trim().toLowerCase().pipe(
    z.enum(KAFKA_COMPRESSIONS, {
      error: (issue) =>
        `must be one of ${KAFKA_COMPRESSIONS.join(", ")} (got ${JSON.stringify(issue.input)})`,
    }),
  ).default(DEFAULT_KAFKA_COMPRESSION),
  TOPIC_PAYMENT_REQUESTS: z.string().default(DEFAULT_TOPICS.requests),
  TOPIC_PAYMENT_RESULTS: z.string().default(DEFAULT_TOPICS.results),
  TOPIC_PAYMENT_DLQ: z.string().default(DEFAULT_TOPICS.dlq),
  TOPIC_PAYMENT_DECISIONS: z.string().default(DEFAULT_TOPICS.decisions),
  TOPIC_PAYMENT_BY_CUSTOMER: z.string().default(DEFAULT_TOPICS.byCustomer),
  TOPIC_PAYMENT_CUSTOMER_DECISIONS: z.string().default(DEFAULT_TOPICS.customerDecisions),
  LOG_LEVEL: z.string().trim().toLowerCase().transform((v) => v === "warn" ? "warning" : v)
    .pipe(z.enum(["trace", "debug", "info", "warning", "error", "fatal"])).default("info"),
  LOG_FORMAT: z.string().trim().toLowerCase().pipe(z.enum(["json", "pretty"])).default("json"),
  LOG_FILE: z.string().optional(),
});

/** SASL protocols need all three SASL variables; checked on the raw environment so
 * these problems are reported together with every other bad variable. */
function saslProblems(env: Env): string[] {
  const protocol = (env.KAFKA_SECURITY_PROTOCOL ?? "").trim().toUpperCase();
  if (!protocol.startsWith("SASL_")) return [];
  return (["SASL_MECHANISM", "SASL_USERNAME", "SASL_PASSWORD"] as const)
    .filter((name) => !env[name]?.trim())
    .map((name) => `${name}: is required when KAFKA_SECURITY_PROTOCOL is ${protocol}`);
}

/**
 * Accepts the lab's variable names (`BOOTSTRAP_SERVERS`, `SECURITY_PROTOCOL`,
 * `SASL_MECHANISMS`, `SSL_CA_LOCATION`) so its Confluent Cloud `.env` works unchanged;
 * our own names win when both are set.
 */
function withLabAliases(env: Env): Env {
  return {
    ...env,
    KAFKA_BROKERS: env.KAFKA_BROKERS || env.BOOTSTRAP_SERVERS,
    KAFKA_SECURITY_PROTOCOL: env.KAFKA_SECURITY_PROTOCOL || env.SECURITY_PROTOCOL,
    SASL_MECHANISM: env.SASL_MECHANISM || env.SASL_MECHANISMS,
    KAFKA_SSL_CA_FILE: env.KAFKA_SSL_CA_FILE || env.SSL_CA_LOCATION,
  };
}

/**
 * Resolves what every service reads the same way (Kafka, topics, logs) from an
 * environment; a service adds its own variables (`loadAll` reports every bad one at
 * once). Pure; throws a {@linkcode ConfigError} naming every bad variable.
 *
 * @example
 * ```ts
 * const shared = loadSharedConfig({ KAFKA_BROKERS: "localhost:9092" });
 * shared.kafka.brokers; // ["localhost:9092"]
 * ```
 */
export function loadSharedConfig(env: Env): SharedConfig {
  return sharedFrom(parseShared(schema, env));
}

/** Parses `env` (with the lab's names) and reports missing SASL variables with the rest. */
function parseShared<S extends typeof schema>(schema: S, env: Env): z.output<S> {
  const aliased = withLabAliases(env);
  const missing = saslProblems(aliased);
  let vars: z.output<S>;
  try {
    vars = parseEnv(schema, aliased);
  } catch (error) {
    if (error instanceof ConfigError) throw new ConfigError([...error.problems, ...missing]);
    throw error;
  }
  if (missing.length > 0) throw new ConfigError(missing);
  return vars;
}

function sharedFrom(vars: z.output<typeof schema>): SharedConfig {
  const protocol = vars.KAFKA_SECURITY_PROTOCOL as SecurityProtocol;
  return {
    kafka: {
      brokers: vars.KAFKA_BROKERS,
      clientId: vars.KAFKA_CLIENT_ID,
      securityProtocol: protocol,
      ...(protocol.startsWith("SASL_")
        ? {
          sasl: {
            mechanism: vars.SASL_MECHANISM as SaslMechanism,
            username: vars.SASL_USERNAME!,
            password: vars.SASL_PASSWORD!,
          },
        }
        : {}),
      ...(vars.KAFKA_SSL_CA_FILE ? { caFile: vars.KAFKA_SSL_CA_FILE } : {}),
      connectionTimeoutMs: vars.KAFKA_CONNECTION_TIMEOUT_MS,
      requestTimeoutMs: vars.KAFKA_REQUEST_TIMEOUT_MS,
      compression: vars.KAFKA_COMPRESSION,
    },
    topics: {
      requests: vars.TOPIC_PAYMENT_REQUESTS,
      results: vars.TOPIC_PAYMENT_RESULTS,
      dlq: vars.TOPIC_PAYMENT_DLQ,
      decisions: vars.TOPIC_PAYMENT_DECISIONS,
      byCustomer: vars.TOPIC_PAYMENT_BY_CUSTOMER,
      customerDecisions: vars.TOPIC_PAYMENT_CUSTOMER_DECISIONS,
    },
    log: {
      level: vars.LOG_LEVEL,
      format: vars.LOG_FORMAT,
      ...(vars.LOG_FILE ? { file: vars.LOG_FILE } : {}),
    },
  };
}

/** A copy of the config safe to log: the SASL password is masked. */
export function redactConfig<C extends SharedConfig>(config: C): C {
  if (!config.kafka.sasl) return config;
  return { ...config, kafka: { ...config.kafka, sasl: { ...config.kafka.sasl, password: "***" } } };
}
