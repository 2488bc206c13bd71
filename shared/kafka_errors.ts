/**
 * What a Kafka failure means, in one place: whether the same operation may succeed
 * later (retriable), whether our transactional producer was fenced by a newer one,
 * whether the brokers refused our credentials, whether a topic we named does not
 * exist, and the name of a protocol error that reaches us only as text. Producer and
 * consumer both decide with these.
 *
 * kafkajs throws typed errors: `KafkaJSProtocolError` carries the protocol error's
 * `type` and `code`, wrappers (`KafkaJSNonRetriableError`,
 * `KafkaJSNumberOfRetriesExceeded`, our own `TransactionError`) keep the error they
 * wrap in `originalError` or `cause`. Every test here follows that chain; none reads
 * the message text except where kafkajs gives nothing else (SASL failures, and the
 * errors it retries by itself, which reach us only as its log lines).
 *
 * @module
 */
// kafkajs does not export its error table from the package root; the file is part of
// the pinned 2.2.4 release.
import protocolErrors from "kafkajs/src/protocol/error.js";
import type { KafkaSettings } from "./config.ts";

interface ProtocolErrorEntry {
  type: string;
  code: number;
  retriable: boolean;
  message: string;
}

const byMessage = new Map(
  (protocolErrors as { errorCodes: ProtocolErrorEntry[] }).errorCodes.map((
    entry,
  ) => [entry.message, entry.type]),
);

/**
 * The protocol error type (`CONCURRENT_TRANSACTIONS`, `NOT_LEADER_OR_FOLLOWER`, ...)
 * whose message is `message`, or `undefined` for any other text. For the errors
 * kafkajs retries by itself, which reach us only as the text of its log lines, so a
 * retry can be counted by type instead of being printed.
 *
 * @example
 * ```ts
 * protocolErrorType(
 *   "The producer attempted to update a transaction while another concurrent operation on the same transaction was ongoing",
 * ); // "CONCURRENT_TRANSACTIONS"
 * ```
 */
export function protocolErrorType(message: string): string | undefined {
  return byMessage.get(message);
}

/** A failure worth retrying (simulated or real): the consumer retries the payment with backoff. */
export class TransientError extends Error {
  override name = "TransientError";
  readonly retriable = true;
}

interface KafkaLikeError {
  name?: unknown;
  message?: unknown;
  retriable?: unknown;
  type?: unknown;
  cause?: unknown;
  originalError?: unknown;
}

/** Wrappers nest a few levels at most; the bound only guards against cycles. */
const MAX_DEPTH = 8;

/** The error and the errors it wraps, outermost first. */
function* chain(error: unknown): Generator<KafkaLikeError> {
  const seen = new Set<unknown>();
  for (let e = error, depth = 0; typeof e === "object" && e !== null; depth++) {
    if (depth > MAX_DEPTH || seen.has(e)) return;
    seen.add(e);
    yield e as KafkaLikeError;
    const { originalError, cause } = e as KafkaLikeError;
    e = originalError ?? cause;
  }
}

const UNRECOVERABLE = new Set(["TypeError", "RangeError", "ReferenceError", "SyntaxError"]);

/**
 * Whether a kafkajs error means "Kafka is unavailable right now" (retriable: a
 * connection, a timeout, a leader election, retries exhausted on such errors)
 * rather than a permanent refusal (authorization, record too large) or a bug.
 *
 * @example
 * ```ts
 * isRetriableKafkaError(new KafkaJSConnectionError("refused")); // true
 * ```
 */
export function isRetriableKafkaError(error: unknown, depth = 0): boolean {
  if (depth > MAX_DEPTH || typeof error !== "object" || error === null) return false;
  const { name, retriable, cause, originalError } = error as KafkaLikeError;
  const inner = cause ?? originalError;
  if (name === "KafkaJSNumberOfRetriesExceeded") return true;
  if (name === "KafkaJSNonRetriableError") {
    return inner !== undefined && inner !== error && isRetriableKafkaError(inner, depth + 1);
  }
  if (typeof name === "string" && UNRECOVERABLE.has(name)) return false;
  if (retriable === true) return true;
  if (retriable === false) return false;
  return typeof name === "string" && name.startsWith("KafkaJS");
}

/**
 * The protocol errors that say a newer producer with our `transactionalId` took over
 * (or the broker expired our transaction). Brokers answer the request versions kafkajs
 * 2.2.4 speaks with INVALID_PRODUCER_EPOCH (KIP-588 keeps PRODUCER_FENCED for newer
 * clients); PRODUCER_FENCED is listed for a client that knows its name.
 */
const FENCED_TYPES = new Set(["INVALID_PRODUCER_EPOCH", "PRODUCER_FENCED"]);

/**
 * Whether a transactional producer's failure means it was fenced: another owner of
 * the partition holds its `transactionalId` now, and this producer can never commit
 * again. Decided by the protocol error's type anywhere in the chain of wrapped
 * errors, never by the message text.
 *
 * @example
 * ```ts
 * isProducerFenced(new KafkaJSProtocolError(createErrorFromCode(47))); // true
 * ```
 */
export function isProducerFenced(error: unknown): boolean {
  for (const e of chain(error)) {
    if (typeof e.type === "string" && FENCED_TYPES.has(e.type)) return true;
  }
  return false;
}

/**
 * Whether Kafka answered that a topic we named does not exist (the protocol error
 * UNKNOWN_TOPIC_OR_PARTITION anywhere in the chain of wrapped errors), as opposed to
 * not answering at all: the operator must create the topic or fix its variable.
 *
 * @example
 * ```ts
 * isUnknownTopic(new KafkaJSProtocolError(createErrorFromCode(3))); // true
 * ```
 */
export function isUnknownTopic(error: unknown): boolean {
  for (const e of chain(error)) {
    if (e.type === "UNKNOWN_TOPIC_OR_PARTITION") return true;
  }
  return false;
}

/**
 * kafkajs reports a refused SASL login as `KafkaJSSASLAuthenticationError` with the
 * broker's text; its own log lines about it carry only the text.
 */
const AUTH_FAILURE = /SASL\w*Authentication|authentication failed/i;

/** Whether a text (a kafkajs log line, an error's name and message) tells of a refused login. */
export function mentionsAuthenticationFailure(text: string): boolean {
  return AUTH_FAILURE.test(text);
}

/** Whether kafkajs failed because the brokers refused our SASL credentials. */
export function isAuthenticationError(error: unknown): boolean {
  for (const e of chain(error)) {
    if (!(e instanceof Error)) return false;
    if (mentionsAuthenticationFailure(`${e.name} ${e.message}`)) return true;
  }
  return false;
}

/**
 * One sentence for a Kafka failure; a refused login names the mechanism and the user
 * (never the password) so the operator knows which credentials to fix.
 *
 * @example
 * ```ts
 * logger.error("Cannot reach Kafka: {error}", { error: explainKafkaError(error, config.kafka) });
 * ```
 */
export function explainKafkaError(error: unknown, settings: Pick<KafkaSettings, "sasl">): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  if (!settings.sasl || !isAuthenticationError(error)) return text;
  return `Kafka refused our credentials: SASL ${settings.sasl.mechanism} authentication ` +
    `failed for user ${settings.sasl.username} (${text})`;
}
