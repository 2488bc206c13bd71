/**
 * The records the worker writes: a result per payment on `payment_results`, each
 * tagged with the input record it answers (`original_topic/partition/offset`, the same
 * headers the DLQ uses) so progress can be rebuilt from Kafka after a crash.
 *
 * @module
 */
import type { PaymentResult } from "@payments/shared/payment";
import { HEADER, RECORD_CONTENT_TYPE } from "@payments/shared/record_headers";

/** Where an input record came from. */
export interface SourcePosition {
  topic: string;
  partition: number;
  offset: string;
}

/** Headers naming the input record a result or dead letter answers. */
export const ORIGIN_HEADER = Object.freeze({
  topic: "original_topic",
  partition: "original_partition",
  offset: "original_offset",
});

/** A record ready for `producer.send`. */
export interface OutputRecord {
  topic: string;
  partition: number;
  key: string | Uint8Array | null;
  value: string | Uint8Array | null;
  headers: Record<string, string | Uint8Array>;
}

/**
 * The result record for a payment: key `payment_id`, written to the partition number
 * of its request (requests and results have the same partition count), so the
 * de-duplication state of a request partition is rebuilt from one result partition.
 */
export function buildResultRecord(
  result: PaymentResult,
  source: SourcePosition,
  trace: { correlationId: string; traceparent?: string | undefined },
  resultsTopic: string,
  resultPartitions: number,
): OutputRecord {
  return {
    topic: resultsTopic,
    partition: source.partition % resultPartitions,
    key: result.payment_id,
    value: JSON.stringify(result),
    headers: {
      [HEADER.correlationId]: trace.correlationId,
      ...(trace.traceparent ? { [HEADER.traceparent]: trace.traceparent } : {}),
      [HEADER.contentType]: RECORD_CONTENT_TYPE,
      [ORIGIN_HEADER.topic]: source.topic,
      [ORIGIN_HEADER.partition]: String(source.partition),
      [ORIGIN_HEADER.offset]: source.offset,
    },
  };
}
