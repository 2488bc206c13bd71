/**
 * Span and attribute names of the pipeline's spans, spelled once: OpenTelemetry's
 * messaging conventions for Kafka (semantic conventions 1.30, "development" status) and
 * the payment attributes of our own.
 *
 * The messaging names are copied here rather than imported from
 * `@opentelemetry/semantic-conventions`: they exist only in its `incubating` entry
 * point, which its README says may break in any minor release and advises copying from
 * rather than loading at run time (a module of several thousand constants, for a dozen).
 *
 * @module
 */
import type { Attributes } from "@opentelemetry/api";

/** OpenTelemetry's attribute names the services set. */
export const ATTR = Object.freeze({
  messagingSystem: "messaging.system",
  operationType: "messaging.operation.type",
  operationName: "messaging.operation.name",
  destination: "messaging.destination.name",
  partition: "messaging.destination.partition.id",
  consumerGroup: "messaging.consumer.group.name",
  batchCount: "messaging.batch.message_count",
  messageKey: "messaging.kafka.message.key",
  offset: "messaging.kafka.offset",
  errorType: "error.type",
  httpRoute: "http.route",
});

/** Our own attribute names (payments, not messaging). */
export const PAYMENT_ATTR = Object.freeze({
  /** The payment a span handles (what a trace search by payment asks: `{"payment.id":"P-1"}`). */
  id: "payment.id",
  /** What became of it: `claimed`, `DUPLICATE`, `APPROVED`, `DECLINED` or `dead_letter`. */
  outcome: "payment.outcome",
  /** The reason code of a decline, duplicate or dead letter (`velocity_exceeded`, ...). */
  reason: "payment.reason",
  /** The rule behind the reason, as `GET /payments/{id}` words it. */
  rule: "payment.rule",
  /** The request's correlation id: the key of the log search. */
  correlationId: "payment.correlation_id",
  /** The producer's own probe sent it. */
  probe: "payment.probe",
});

/** `messaging.operation.type`: what a messaging span does. */
export type MessagingOperation = "send" | "process" | "settle";

/** `messaging.operation.name` of each operation type, as Kafka clients name them. */
const OPERATION_NAME: Record<MessagingOperation, string> = {
  send: "send",
  process: "process",
  settle: "commit",
};

/**
 * A messaging span's name: `{operation name} {destination}`, as the conventions ask.
 *
 * @example
 * ```ts
 * messagingSpanName("send", "payment_requests"); // "send payment_requests"
 * messagingSpanName("settle", "payment_requests"); // "commit payment_requests"
 * ```
 */
export function messagingSpanName(operation: MessagingOperation, destination: string): string {
  return `${OPERATION_NAME[operation]} ${destination}`;
}

/** What {@linkcode kafkaAttributes} describes; absent fields are left out. */
export interface KafkaSpanFacts {
  operation: MessagingOperation;
  destination: string;
  partition?: number;
  /** Only on consumer spans. */
  consumerGroup?: string;
  /**
   * Records of a batch operation (a chunk, a batch request, a coalesced send); leave it
   * out on a single-record span, as the conventions ask.
   */
  count?: number;
  /** The record's key, on single-record spans. */
  key?: string;
  offset?: number | string;
}

/**
 * The messaging attributes of a Kafka span.
 *
 * @example
 * ```ts
 * kafkaAttributes({ operation: "process", destination: "payment_requests", partition: 3, offset: "42" });
 * // { "messaging.system": "kafka", "messaging.operation.type": "process", ...,
 * //   "messaging.destination.partition.id": "3", "messaging.kafka.offset": 42 }
 * ```
 */
export function kafkaAttributes(facts: KafkaSpanFacts): Attributes {
  const attributes: Attributes = {
    [ATTR.messagingSystem]: "kafka",
    [ATTR.operationType]: facts.operation,
    [ATTR.operationName]: OPERATION_NAME[facts.operation],
    [ATTR.destination]: facts.destination,
  };
  if (facts.partition !== undefined) attributes[ATTR.partition] = String(facts.partition);
  if (facts.consumerGroup !== undefined) attributes[ATTR.consumerGroup] = facts.consumerGroup;
  if (facts.count !== undefined) attributes[ATTR.batchCount] = facts.count;
  if (facts.key !== undefined) attributes[ATTR.messageKey] = facts.key;
  if (facts.offset !== undefined) attributes[ATTR.offset] = Number(facts.offset);
  return attributes;
}
