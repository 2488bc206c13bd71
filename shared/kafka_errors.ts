/**
 * Names for Kafka protocol errors. kafkajs throws typed errors (`error.type`), but the
 * errors it retries by itself reach us only as the text of its log lines; this maps
 * such a text back to the protocol error's name with kafkajs' own table, so a retry
 * can be counted by type instead of being printed.
 *
 * @module
 */
// kafkajs does not export its error table from the package root; the file is part of
// the pinned 2.2.4 release.
import protocolErrors from "kafkajs/src/protocol/error.js";

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
 * whose message is `message`, or `undefined` for any other text.
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
