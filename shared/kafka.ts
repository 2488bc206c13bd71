/**
 * kafkajs client options from the shared configuration, with kafkajs' own log
 * routed into LogTape so every line comes out in one format. Building them has no
 * effect on the process: the CA file is read by {@linkcode readKafkaCa}, which each
 * main.ts calls once at start, and the kafkajs timer warning is muted by each main.ts
 * itself (`kafkajs_quiet.ts`). What a Kafka error means is `kafka_errors.ts`.
 *
 * @module
 */
import type { KafkaConfig, logCreator, SASLOptions } from "kafkajs";
import { logLevel } from "kafkajs";
import { getLogger } from "@logtape/logtape";
import type { KafkaSettings } from "./config.ts";
import { ConfigError } from "./env.ts";
import { mentionsAuthenticationFailure, protocolErrorType } from "./kafka_errors.ts";

const levels: Record<number, "error" | "warning" | "info" | "debug"> = {
  [logLevel.ERROR]: "error",
  [logLevel.WARN]: "warning",
  [logLevel.INFO]: "info",
  [logLevel.DEBUG]: "debug",
};

/**
 * kafkajs logs every error response of a request at error level, including the
 * retriable ones it goes on to retry (a coordinator still loading, a leader moving).
 * The error also reaches the caller, which decides what it means, so these lines
 * are warnings here.
 */
function levelOf(namespace: string, level: number, message: string, fields: object) {
  const name = levels[level] ?? "info";
  if (name === "error" && namespace === "Connection" && message.startsWith("Response ")) {
    return "warning";
  }
  // The consumer service reports each crash itself, once, naming the cause, the
  // partitions and whether kafkajs restarts (consumer/crash.ts).
  if (
    name === "error" && namespace === "Consumer" &&
    (message.startsWith("Crash: ") || message.startsWith("Restarting the consumer"))
  ) {
    return "warning";
  }
  // A refused login is reported once per attempt by the service, naming mechanism
  // and user (explainKafkaError); kafkajs' own lines about it are repeats.
  if (
    (name === "error" || name === "warning") &&
    mentionsAuthenticationFailure(JSON.stringify(fields))
  ) {
    return "debug";
  }
  return name;
}

/** What a service wants to hear from its kafkajs client besides log lines. */
export interface KafkaClientHooks {
  /**
   * A producer's send failed with a retriable error that kafkajs retries by itself;
   * `errorType` is the protocol error's name (`CONCURRENT_TRANSACTIONS`, ...) or
   * `unknown`. Called once per retried attempt.
   */
  onProducerRetry?: (errorType: string) => void;
}

const SEND_RETRY_PREFIX = "Failed to send messages: ";
/**
 * Only the consumer's transactional producers limit their retries, and for them the
 * warning does not hold: a send that runs out of retries fails its transaction, which
 * is aborted and retried whole, so nothing is written twice.
 */
const LIMITED_RETRIES_WARNING = "Limiting retries for the idempotent producer may invalidate EoS";

/**
 * A transaction that starts right after the previous one committed is answered
 * CONCURRENT_TRANSACTIONS until the broker has written the previous commit's markers:
 * normal, frequent, and retried within milliseconds. It is counted
 * (`onProducerRetry`), not logged above debug.
 */
function isConcurrentTransactions(text: string): boolean {
  return protocolErrorType(text) === "CONCURRENT_TRANSACTIONS";
}

/**
 * The errors a broker answers while it is still electing or loading a coordinator (a
 * fresh broker creating `__consumer_offsets` / `__transaction_state`, or a coordinator
 * moving): kafkajs retries them, and they pass on their own.
 */
const COORDINATOR_NOT_READY =
  /coordinator is not available|not the correct coordinator|coordinator is loading/i;

/** How long coordinator answers stay at debug before we say so once (default 30 s). */
export const COORDINATOR_PATIENCE_MS = 30_000;
/** A pause this long between such answers ends a streak: the next one starts afresh. */
const STREAK_GAP_MS = 15_000;

/** Options of {@linkcode createLogTapeLogCreator}. */
export interface LogCreatorOptions {
  /** Milliseconds clock (tests drive it). */
  now?: () => number;
  /** How long coordinator answers may go on before one warning of ours. */
  coordinatorPatienceMs?: number;
}

/**
 * Coordinator-not-ready answers of one kafkajs client: each goes to debug; one warning
 * of ours once a streak of them lasts longer than the patience.
 */
function coordinatorWatch(options: LogCreatorOptions) {
  const now = options.now ?? Date.now;
  const patience = options.coordinatorPatienceMs ?? COORDINATOR_PATIENCE_MS;
  let streakStart = 0;
  let lastSeen = -Infinity;
  let reported = false;
  return (request: string, error: string) => {
    const at = now();
    if (at - lastSeen > STREAK_GAP_MS) {
      streakStart = at;
      reported = false;
    }
    lastSeen = at;
    if (reported || at - streakStart < patience) return;
    reported = true;
    getLogger(["kafka", "coordinator"]).warn(
      "Kafka has answered {error} for {seconds} s ({request}); kafkajs keeps retrying. " +
        "A healthy broker elects its coordinators within seconds: check the broker's log",
      { error, seconds: Math.round((at - streakStart) / 1000), request },
    );
  };
}

/**
 * A kafkajs log creator writing to the LogTape category `["kafkajs", namespace]`,
 * reporting the producer retries it sees to `hooks`. Coordinator-not-ready answers
 * (`Response GroupCoordinator(key: 10…)`, `Response InitProducerId(key: 22…)`) go to
 * debug: they are what a starting broker says while it elects coordinators. If they
 * last longer than the patience, one warning in `["kafka", "coordinator"]` says so,
 * once per streak. State is per kafkajs client (kafkajs calls the creator once per
 * client).
 */
export function createLogTapeLogCreator(
  hooks: KafkaClientHooks = {},
  options: LogCreatorOptions = {},
): logCreator {
  return () => {
    const waitingForCoordinator = coordinatorWatch(options);
    return ({ namespace, level, log }) => {
      const { message, ...fields } = log;
      const text = String(message);
      const category = ["kafkajs", namespace || "client"];
      const error = String((fields as { error?: unknown }).error ?? "");
      let name = levelOf(namespace, level, text, { text, ...fields });
      if (namespace === "Producer" && text.startsWith(SEND_RETRY_PREFIX)) {
        // kafkajs rethrows after its last retry and our caller reports that failure.
        const reason = text.slice(SEND_RETRY_PREFIX.length);
        hooks.onProducerRetry?.(protocolErrorType(reason) ?? "unknown");
        name = isConcurrentTransactions(reason) ? "debug" : "warning";
      } else if (namespace === "Producer" && text.startsWith(LIMITED_RETRIES_WARNING)) {
        name = "debug";
      } else if (namespace === "Connection" && text.startsWith("Response ")) {
        if (COORDINATOR_NOT_READY.test(error)) {
          name = "debug";
          waitingForCoordinator(text.slice("Response ".length), error);
        } else if (isConcurrentTransactions(error)) {
          name = "debug";
        }
      }
      getLogger(category)[name](text, fields);
    };
  };
}

/** {@linkcode createLogTapeLogCreator} without hooks, with the default patience. */
export const logTapeLogCreator: logCreator = createLogTapeLogCreator();

/** Kafka settings with the CA bundle's PEM text, once {@linkcode readKafkaCa} has read it. */
export type KafkaClientSettings = KafkaSettings & {
  /** Contents of `caFile`; present when a CA file is configured. */
  ca?: string;
};

/**
 * Reads the CA file of `settings` (`KAFKA_SSL_CA_FILE`), when one is configured, so a
 * missing or unreadable file stops the service at start with a {@linkcode ConfigError}
 * naming the variable, rather than at first connect. main.ts calls it once; {@linkcode kafkaClientConfig} takes
 * what it returns.
 *
 * @example
 * ```ts
 * const settings = await readKafkaCa(config.kafka);
 * const kafka = new Kafka(kafkaClientConfig(settings, "payment-producer"));
 * ```
 */
export async function readKafkaCa(settings: KafkaSettings): Promise<KafkaClientSettings> {
  if (!settings.caFile) return settings;
  try {
    return { ...settings, ca: await Deno.readTextFile(settings.caFile) };
  } catch (error) {
    throw new ConfigError([
      `Cannot read KAFKA_SSL_CA_FILE ${settings.caFile}: ${(error as Error).message}`,
    ]);
  }
}

/**
 * kafkajs client options for `new Kafka(...)`. Pure: a configured CA file must have
 * been read with {@linkcode readKafkaCa} first.
 *
 * @example
 * ```ts
 * const kafka = new Kafka(kafkaClientConfig(await readKafkaCa(config.kafka), "payment-producer"));
 * ```
 */
export function kafkaClientConfig(
  settings: KafkaClientSettings,
  clientId?: string,
  hooks: KafkaClientHooks = {},
): KafkaConfig {
  if (settings.caFile && settings.ca === undefined) {
    throw new Error(
      `Cannot build the Kafka client: KAFKA_SSL_CA_FILE ${settings.caFile} was not read ` +
        "(pass the settings readKafkaCa returns)",
    );
  }
  const tls = settings.securityProtocol === "SSL" || settings.securityProtocol === "SASL_SSL";
  return {
    clientId: clientId ?? settings.clientId,
    brokers: settings.brokers,
    connectionTimeout: settings.connectionTimeoutMs,
    requestTimeout: settings.requestTimeoutMs,
    ssl: tls ? (settings.ca ? { ca: [settings.ca] } : true) : false,
    ...(settings.sasl ? { sasl: saslOptions(settings.sasl) } : {}),
    logLevel: logLevel.WARN,
    logCreator: createLogTapeLogCreator(hooks),
  };
}

function saslOptions(sasl: NonNullable<KafkaSettings["sasl"]>): SASLOptions {
  const { username, password } = sasl;
  switch (sasl.mechanism) {
    case "PLAIN":
      return { mechanism: "plain", username, password };
    case "SCRAM-SHA-256":
      return { mechanism: "scram-sha-256", username, password };
    case "SCRAM-SHA-512":
      return { mechanism: "scram-sha-512", username, password };
  }
}
