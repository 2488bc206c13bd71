/**
 * Dead letters: the original key, value bytes and headers, untouched, plus headers
 * saying why (the DESIGN's `dlq_*` and `original_*` headers).
 *
 * @module
 */
import type { OutputRecord, SourcePosition } from "./results.ts";
import { ORIGIN_HEADER } from "./results.ts";

/** Why a record was dead-lettered: unparseable, or processing kept failing. */
export type DlqReason = "null_value" | "invalid_json" | "schema_invalid" | "processing_failed";

/** Every DLQ reason, so their counters start at 0. */
export const DLQ_REASONS: readonly DlqReason[] = [
  "null_value",
  "invalid_json",
  "schema_invalid",
  "processing_failed",
];

/** The parts of a consumed kafkajs message a dead letter keeps. */
export interface OriginalRecord {
  key: Uint8Array | null;
  value: Uint8Array | null;
  timestamp: string;
  headers?: Readonly<Record<string, unknown>>;
}

/** Why and when a record failed. */
export interface Failure {
  reason: DlqReason;
  error: string;
  attempts: number;
  failedAt: Date;
}

/** Longest `dlq_error` header kept; longer messages are cut. */
export const MAX_DLQ_ERROR_LENGTH = 1000;

function originalHeaders(headers: OriginalRecord["headers"]): Record<string, string | Uint8Array> {
  const out: Record<string, string | Uint8Array> = {};
  for (const [name, raw] of Object.entries(headers ?? {})) {
    const value = Array.isArray(raw) ? raw[raw.length - 1] : raw;
    if (typeof value === "string" || value instanceof Uint8Array) out[name] = value;
  }
  return out;
}

/**
 * The DLQ record for a failed input record, on the DLQ partition numbered like the
 * source partition (modulo the DLQ's partition count).
 *
 * @example
 * ```ts
 * buildDlqRecord(message, { topic: "payment_requests", partition: 0, offset: "7" },
 *   { reason: "invalid_json", error: "Unexpected token", attempts: 1, failedAt: new Date() },
 *   "payment_requests.dlq", 6);
 * ```
 */
export function buildDlqRecord(
  original: OriginalRecord,
  source: SourcePosition,
  failure: Failure,
  dlqTopic: string,
  dlqPartitions: number,
): OutputRecord {
  return {
    topic: dlqTopic,
    partition: source.partition % dlqPartitions,
    key: original.key,
    value: original.value,
    headers: {
      ...originalHeaders(original.headers),
      dlq_reason: failure.reason,
      dlq_error: failure.error.slice(0, MAX_DLQ_ERROR_LENGTH),
      [ORIGIN_HEADER.topic]: source.topic,
      [ORIGIN_HEADER.partition]: String(source.partition),
      [ORIGIN_HEADER.offset]: source.offset,
      original_timestamp: original.timestamp,
      attempts: String(failure.attempts),
      failed_at: failure.failedAt.toISOString(),
    },
  };
}
