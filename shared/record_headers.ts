/**
 * The headers every record on `payment_requests` carries (`correlation_id`,
 * `source`, `content-type`), written by the producer and read back by the consumer and
 * tests from kafkajs messages. The trace context (`traceparent`) is written and read
 * through OpenTelemetry's propagation API (`trace_context.ts`), not here.
 *
 * @module
 */
import type { Buffer } from "node:buffer";
import { isSafeCorrelationId, MAX_ID_LENGTH } from "./payment.ts";

/** Media type of record values. */
export const RECORD_CONTENT_TYPE = "application/json";

/** Header names, spelled once. */
export const HEADER = Object.freeze({
  correlationId: "correlation_id",
  source: "source",
  traceparent: "traceparent",
  contentType: "content-type",
});

/** What a producer stamps on each record (besides the trace context). */
export interface RecordHeaderValues {
  correlationId: string;
  source: string;
}

/** Headers as kafkajs hands them over (`IHeaders`): values may be Buffers, strings, arrays. */
export type KafkaHeaders = Readonly<
  Record<string, Buffer | Uint8Array | string | (Buffer | Uint8Array | string)[] | undefined>
>;

/** Headers read back from a record; a field is absent when missing or not valid. */
export interface ParsedRecordHeaders {
  correlationId?: string;
  source?: string;
  contentType?: string;
}

/**
 * The record headers for one produced payment; `injectTraceHeaders` adds its
 * `traceparent`.
 *
 * @example
 * ```ts
 * buildRecordHeaders({ correlationId: "c-1", source: "payment-producer" });
 * // { correlation_id: "c-1", source: "payment-producer", "content-type": "application/json" }
 * ```
 */
export function buildRecordHeaders(values: RecordHeaderValues): Record<string, string> {
  return {
    [HEADER.correlationId]: values.correlationId,
    [HEADER.source]: values.source,
    [HEADER.contentType]: RECORD_CONTENT_TYPE,
  };
}

const decoder = new TextDecoder("utf-8", { fatal: true });

/**
 * One header as a string: the last value when repeated, decoded as strict UTF-8.
 * Returns `undefined` when missing or not valid UTF-8.
 */
export function headerText(headers: KafkaHeaders | undefined, name: string): string | undefined {
  const raw = headers?.[name];
  const value = Array.isArray(raw) ? raw[raw.length - 1] : raw;
  if (value === undefined || value === null) return undefined;
  if (typeof value === "string") return value;
  if (!(value instanceof Uint8Array)) return undefined;
  try {
    return decoder.decode(value);
  } catch {
    return undefined;
  }
}

const SAFE_TEXT = /^[\x21-\x7E]+$/;

/**
 * Reads the pipeline's headers from a kafkajs message, tolerating garbage:
 * a missing, non-UTF-8 or invalid value leaves its field out instead of throwing.
 *
 * @example
 * ```ts
 * const { correlationId, source } = readRecordHeaders(message.headers);
 * ```
 */
export function readRecordHeaders(headers: KafkaHeaders | undefined): ParsedRecordHeaders {
  const parsed: ParsedRecordHeaders = {};
  const correlationId = headerText(headers, HEADER.correlationId);
  if (isSafeCorrelationId(correlationId)) parsed.correlationId = correlationId;
  const source = headerText(headers, HEADER.source);
  if (source && source.length <= MAX_ID_LENGTH && SAFE_TEXT.test(source)) parsed.source = source;
  const contentType = headerText(headers, HEADER.contentType);
  if (contentType && contentType.length <= 255 && /^[\x20-\x7E]+$/.test(contentType)) {
    parsed.contentType = contentType;
  }
  return parsed;
}
