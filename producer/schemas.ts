/**
 * Response schemas of the producer API, for the OpenAPI document. Request
 * schemas come from `@payments/shared/payment`.
 *
 * @module
 */
import { z } from "zod";

/** One payment Kafka acknowledged. */
export const AcceptedPaymentSchema = z.object({
  payment_id: z.string(),
  status: z.literal("accepted"),
  amount: z.number().meta({
    description: "The amount as stored: exactly as sent (an amount is refused, never rounded)",
  }),
  currency: z.string().meta({ description: "The currency as stored (USD when none was sent)" }),
  partition: z.number().int().meta({ description: "Kafka partition of the record" }),
  offset: z.number().int().meta({ description: "Kafka offset of the record in its partition" }),
  status_url: z.string().meta({
    description: "Where to ask for the payment's outcome: GET it (relative to this API), " +
      "with ?wait=<seconds> to wait for the decision",
  }),
}).meta({ id: "AcceptedPayment" });

/** Answer to `POST /payments` and `POST /payments/single`. */
export const SinglePaymentResponseSchema = AcceptedPaymentSchema.extend({
  correlation_id: z.string(),
  topic: z.string(),
  processing_time_ms: z.number(),
}).meta({
  id: "SinglePaymentResponse",
  description: "The payment is durably in Kafka (acks=all) at this partition and offset.",
});

/** Answer to `POST /payments/batch`: the lab's shape plus partition/offset per payment. */
export const BatchPaymentResponseSchema = z.object({
  batch_id: z.string(),
  correlation_id: z.string(),
  status: z.literal("accepted"),
  topic: z.string(),
  total_payments: z.number().int(),
  successful: z.number().int(),
  failed: z.number().int().meta({
    description: "Always 0 in a 202: a batch is acknowledged entirely or not at all (503)",
  }),
  results: z.array(AcceptedPaymentSchema),
  processing_time_ms: z.number(),
}).meta({ id: "BatchPaymentResponse" });

/** Answer to `GET /payments/{payment_id}`: the payment's committed outcome. */
export const PaymentStatusSchema = z.object({
  payment_id: z.string(),
  status: z.enum(["APPROVED", "DECLINED"]),
  reason: z.string().nullable().meta({
    description: "The rule that declined it (merchant_blocked, amount_over_limit, " +
      "velocity_exceeded); null when approved",
  }),
  rule: z.string().nullable().meta({
    description: "What that rule says, and the setting behind it; null when approved",
  }),
  decided_at: z.string().meta({ description: "When the decision was made (ISO-8601 UTC)" }),
  created_at: z.string().meta({ description: "When the API accepted the payment" }),
  partition: z.number().int().meta({ description: "Kafka partition of the request record" }),
  offset: z.number().int().meta({ description: "Kafka offset of the request record" }),
  correlation_id: z.string().nullable().meta({
    description: "The correlation id of the request that carried it",
  }),
  duplicates: z.number().int().meta({
    description: "Later requests with the same payment_id, each answered DUPLICATE",
  }),
  stale: z.boolean().meta({
    description: "true when part of the answer came from a standby copy of a store, " +
      "because its owner could not be reached: a standby may lag by the last moments " +
      "(the duplicates count, most of all)",
  }),
}).meta({
  id: "PaymentStatus",
  description: "The payment's decision as committed by the consumer (read-committed)",
});
/** The body of a 200 answer to `GET /payments/{payment_id}`. */
export type PaymentStatus = z.output<typeof PaymentStatusSchema>;

/** RFC 9457 problem details. */
export const ProblemSchema = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  detail: z.string(),
  instance: z.string().optional(),
  correlation_id: z.string().optional(),
  errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
}).meta({ id: "Problem" });

/** `GET /health`. */
export const HealthSchema = z.object({ status: z.literal("healthy"), timestamp: z.string() })
  .meta({ id: "Health" });

/** `GET /ready` when ready. */
export const ReadySchema = z.object({ status: z.literal("ready"), detail: z.string() })
  .meta({ id: "Ready" });

/** `GET /stats`. */
export const StatsSchema = z.object({
  started_at: z.string(),
  uptime_seconds: z.number(),
  total_requests: z.number().int(),
  total_batches: z.number().int(),
  total_payments: z.number().int(),
  successful_payments: z.number().int(),
  failed_payments: z.number().int(),
  rejected_requests: z.number().int(),
  shed_requests: z.number().int().meta({
    description: "Requests refused at once with 503 overloaded; nothing of them was written",
  }),
  average_batch_size: z.number(),
  average_processing_time_ms: z.number(),
  last_payment_at: z.string().nullable(),
  topic: z.string(),
  kafka_ready: z.boolean(),
}).meta({ id: "ProducerStats" });
