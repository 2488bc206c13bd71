/**
 * The records the worker writes: a result per payment on `payment_results`, each
 * tagged with the input record it answers in one `origin` header
 * (`payment_requests:3:1234`): under Deno kafkajs spends about 9 µs encoding each
 * header of every result, so the three `original_*` headers a dead letter carries (the
 * design asks for them there) are one here.
 *
 * @module
 */
import type { SpanContext } from "@opentelemetry/api";
import type { PaymentResult } from "@payments/shared/payment";
import { HEADER, RECORD_CONTENT_TYPE } from "@payments/shared/record_headers";

/** Where an input record came from. */
export interface SourcePosition {
  topic: string;
  partition: number;
  offset: string;
}

/** Headers naming the input record a dead letter answers (the DLQ's, by design). */
export const ORIGIN_HEADER = Object.freeze({
  topic: "original_topic",
  partition: "original_partition",
  offset: "original_offset",
});

/** The one header naming the input record a result answers. */
export const RESULT_ORIGIN_HEADER = "origin";

/** `topic:partition:offset` (Kafka topic names have no colon). */
export function originOf(source: SourcePosition): string {
  return `${source.topic}:${source.partition}:${source.offset}`;
}

/**
 * The input record a result answers, from its headers: the `origin` header, or the
 * three `original_*` headers results carried before it (and dead letters carry).
 */
export function readOrigin(
  headers: Readonly<Record<string, string | undefined>>,
): SourcePosition | undefined {
  const origin = headers[RESULT_ORIGIN_HEADER];
  if (origin !== undefined) {
    const match = /^(.+):(\d+):(\d+)$/.exec(origin);
    return match ? { topic: match[1]!, partition: Number(match[2]), offset: match[3]! } : undefined;
  }
  const topic = headers[ORIGIN_HEADER.topic];
  const partition = headers[ORIGIN_HEADER.partition];
  const offset = headers[ORIGIN_HEADER.offset];
  if (topic === undefined || partition === undefined || offset === undefined) return undefined;
  return { topic, partition: Number(partition), offset };
}

/** A record ready for `producer.send`. */
export interface OutputRecord {
  topic: string;
  partition: number;
  key: string | Uint8Array | null;
  value: string | Uint8Array | null;
  headers: Record<string, string | Uint8Array>;
  /**
   * The span of the input record this output answers, which the span of the send that
   * writes it links to (dead letters); never written to Kafka.
   */
  answers?: SpanContext;
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
      [RESULT_ORIGIN_HEADER]: originOf(source),
    },
  };
}
