/**
 * The repartition records (topic `payment_requests.by_customer`, key `customer_id`):
 * a payment task forwards each new payment it claimed to the partition of its
 * customer, in the same transaction as the claim, so one customer's payments are
 * decided in order by one customer task, whichever request partitions they came in
 * on. The value carries the validated payment and where its request was read; the
 * trace context (the payment task's span of the payment, as a `traceparent`, empty
 * without `OTEL_DENO`) rides in the value too (no headers: only the consumer reads
 * these, and headers cost kafkajs about 9 µs each to encode under Deno).
 *
 * @module
 */
import { partitionForKey } from "@payments/shared/key_partition";
import type { PaymentEvent } from "@payments/shared/payment";
import type { OutputRecord } from "./results.ts";
import { isInteger, NO_HEADERS, text } from "./store/changelog_records.ts";

/** The ids a forward carries for its customer task's log lines and span. */
export interface ForwardTrace {
  correlation_id: string;
  /** The payment task's span of the payment (W3C `traceparent`), or "" for none. */
  traceparent: string;
}

/** A payment forwarded to its customer's task. */
export interface Forward {
  event: PaymentEvent;
  /** Where the request was read. */
  request: { partition: number; offset: number };
  trace: ForwardTrace;
}

/** The forward of a claimed payment, on its customer's partition of `topic`. */
export function forwardRecord(forward: Forward, topic: string, partitions: number): OutputRecord {
  const { event, request, trace } = forward;
  return {
    topic,
    partition: partitionForKey(event.customer_id, partitions),
    key: event.customer_id,
    value: JSON.stringify({
      payment: event,
      request_partition: request.partition,
      request_offset: request.offset,
      correlation_id: trace.correlation_id,
      traceparent: trace.traceparent,
    }),
    headers: NO_HEADERS,
  };
}

const isString = (value: unknown): value is string => typeof value === "string";

/**
 * Reads a forward back, or says why it cannot (only a payment task writes these, so
 * that is a bug or a foreign writer: the record is dead-lettered, never dropped).
 */
export function readForward(
  value: Uint8Array | string | null,
): { ok: true; forward: Forward } | { ok: false; error: string } {
  if (value === null) return { ok: false, error: "forward record value is null" };
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(text(value));
  } catch (error) {
    return { ok: false, error: `forward record is not JSON: ${(error as Error).message}` };
  }
  const payment = parsed?.payment as Record<string, unknown> | undefined;
  const fields = ["payment_id", "merchant_id", "customer_id", "currency", "created_at"];
  const missing = payment ? fields.filter((f) => !isString(payment[f])) : ["payment"];
  if (payment && typeof payment.amount !== "number") missing.push("amount");
  if (!isInteger(parsed?.request_partition)) missing.push("request_partition");
  if (!isInteger(parsed?.request_offset)) missing.push("request_offset");
  if (missing.length > 0) {
    return { ok: false, error: `forward record lacks ${missing.join(", ")}` };
  }
  return {
    ok: true,
    forward: {
      event: payment as unknown as PaymentEvent,
      request: {
        partition: parsed.request_partition as number,
        offset: parsed.request_offset as number,
      },
      trace: {
        correlation_id: isString(parsed.correlation_id)
          ? parsed.correlation_id
          : (payment!.correlation_id as string) ?? "unknown",
        traceparent: isString(parsed.traceparent) ? parsed.traceparent : "",
      },
    },
  };
}
