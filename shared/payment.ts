/**
 * The payment contract: one set of zod schemas validates HTTP requests, Kafka
 * records and results, and generates the OpenAPI document, so they cannot disagree.
 *
 * @module
 */
import { z } from "zod";

/** Largest number of payments one batch request may carry. */
export const MAX_BATCH_SIZE = 500;
/** Largest amount a single payment may carry (the lab's limit). */
export const MAX_AMOUNT = 10_000;
/** Longest id (payment, merchant, customer) accepted. */
export const MAX_ID_LENGTH = 64;
/** Longest free-text description accepted. */
export const MAX_DESCRIPTION_LENGTH = 500;
/** Longest correlation id accepted, from a header or a body. */
export const MAX_CORRELATION_ID_LENGTH = 128;

// Ids travel as Kafka keys, log fields and header values: keep them to a charset
// that needs no escaping anywhere.
const SAFE_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]*$/;
// Visible ASCII only: no control characters, no spaces, nothing a log parser trips on.
const SAFE_CORRELATION_ID = /^[\x21-\x7E]+$/;

// The codes this runtime's ICU knows, sorted: the enum the OpenAPI document publishes
// is exactly the set the server accepts.
const ISO_CURRENCIES = Intl.supportedValuesOf("currency") as [string, ...string[]];

/** Rounds to cents the way the lab does (`round(v, 2)`), without binary drift. */
export function roundToCents(value: number): number {
  return Math.round((value + Number.EPSILON) * 100) / 100;
}

function idSchema(field: string) {
  return z.string()
    .min(1, `${field} must not be empty`)
    .max(MAX_ID_LENGTH, `${field} must be at most ${MAX_ID_LENGTH} characters`)
    .regex(SAFE_ID, `${field} may contain only letters, digits, '.', '_', ':' and '-'`);
}

/** A correlation id: 1-128 visible ASCII characters. */
export const CorrelationIdSchema = z.string()
  .min(1)
  .max(MAX_CORRELATION_ID_LENGTH)
  .regex(SAFE_CORRELATION_ID, "correlation_id must be visible ASCII without spaces");

/** Whether a client-supplied correlation id may be propagated as is. */
export function isSafeCorrelationId(value: string | null | undefined): value is string {
  return value != null && CorrelationIdSchema.safeParse(value).success;
}

/** Amount in major units: finite, at least 0.01 after rounding to cents, at most 10000. */
export const AmountSchema = z.number()
  // 0.005 is the smallest amount that rounds to a whole cent; anything below would
  // become 0.00 after rounding, which the lab's `gt=0` check let through.
  .min(0.005, "amount must be at least 0.01 after rounding to cents")
  .max(MAX_AMOUNT, `amount must be at most ${MAX_AMOUNT}`)
  .transform(roundToCents);

/** An ISO-4217 currency code in upper case, published as the enum of accepted codes. */
export const CurrencySchema = z.enum(ISO_CURRENCIES, {
  error: "currency must be an ISO-4217 code such as USD",
}).meta({ description: "ISO-4217 currency code in upper case (USD, EUR, ...)" });

/** One payment as a client submits it. Unknown fields are rejected. */
export const PaymentRequestSchema = z.strictObject({
  payment_id: idSchema("payment_id"),
  amount: AmountSchema,
  merchant_id: idSchema("merchant_id"),
  customer_id: idSchema("customer_id"),
  currency: CurrencySchema.default("USD"),
  description: z.string().max(MAX_DESCRIPTION_LENGTH).optional(),
}).meta({ id: "PaymentRequest" });
/** A validated payment request (amount rounded, currency defaulted). */
export type PaymentRequest = z.output<typeof PaymentRequestSchema>;

/** A batch of 1-500 payments with unique payment ids and an optional correlation id. */
export const BatchPaymentRequestSchema = z.strictObject({
  payments: z.array(PaymentRequestSchema).min(1).max(MAX_BATCH_SIZE),
  correlation_id: CorrelationIdSchema.optional(),
}).superRefine((batch, ctx) => {
  // Runs even when other fields are invalid (see `when`), so a client learns about
  // every problem at once; the value may then be partly unparsed, hence the guards.
  const payments: unknown[] = Array.isArray(batch?.payments) ? batch.payments : [];
  const firstIndex = new Map<string, number>();
  payments.forEach((payment, index) => {
    const id = (payment as { payment_id?: unknown } | null)?.payment_id;
    if (typeof id !== "string") return;
    const first = firstIndex.get(id);
    if (first === undefined) {
      firstIndex.set(id, index);
      return;
    }
    ctx.addIssue({
      code: "custom",
      path: ["payments", index, "payment_id"],
      message: `duplicate payment_id ${id} (also at payments.${first})`,
    });
  });
}, { when: (payload) => typeof payload.value === "object" && payload.value !== null }).meta({
  id: "BatchPaymentRequest",
  description: "1-500 payments written to Kafka in one send, all or none. Every payment_id " +
    "must be unique within the batch: a batch repeating one is rejected with 400 " +
    "(each repeat listed in errors), and so is a batch with any invalid payment. Nothing " +
    "of a rejected batch is written, so a client fixes and resends the whole batch " +
    "without having to find out which payments went through.",
});
/** A validated batch request. */
export type BatchPaymentRequest = z.output<typeof BatchPaymentRequestSchema>;

const OFFSET_DATE_TIME = z.iso.datetime({ offset: true });
const LOCAL_DATE_TIME = z.iso.datetime({ local: true });
// Seconds required: the same forms the offset variant accepts, minus the offset.
const WITHOUT_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?$/;

/**
 * Whether `value` is an ISO-8601 date-time without an offset, the way Python's
 * `datetime.now().isoformat()` writes one (`2026-12-01T07:10:09.523215`).
 *
 * @example
 * ```ts
 * isNaiveDateTime("2026-12-01T07:10:09.523215"); // true
 * isNaiveDateTime("2026-12-01T07:10:09.523Z"); // false
 * ```
 */
export function isNaiveDateTime(value: unknown): value is string {
  return typeof value === "string" && WITHOUT_OFFSET.test(value) &&
    LOCAL_DATE_TIME.safeParse(value).success;
}

/**
 * A payment's `created_at`: an ISO-8601 date-time with an offset, or without one (the
 * lab's producer), which is read as UTC and comes out with a `Z`, so every reader of
 * the event (`Date.parse` included, which would take it as local time) agrees on the
 * instant.
 */
export const CreatedAtSchema = z.string()
  .refine(
    (value) => OFFSET_DATE_TIME.safeParse(value).success || isNaiveDateTime(value),
    "Invalid ISO datetime",
  )
  .transform((value) => isNaiveDateTime(value) ? `${value}Z` : value);

/** The record written to `payment_requests`. */
export const PaymentEventSchema = z.object({
  payment_id: idSchema("payment_id"),
  amount: AmountSchema,
  merchant_id: idSchema("merchant_id"),
  customer_id: idSchema("customer_id"),
  currency: CurrencySchema,
  description: z.string().max(MAX_DESCRIPTION_LENGTH).nullable().optional(),
  status: z.literal("PENDING"),
  created_at: CreatedAtSchema,
  correlation_id: CorrelationIdSchema,
  source: z.string().min(1).max(MAX_ID_LENGTH),
}).meta({ id: "PaymentEvent" });
/** A payment as it travels on `payment_requests`. */
export type PaymentEvent = z.output<typeof PaymentEventSchema>;

/** What the consumer decided for a payment. */
export const OutcomeSchema = z.enum(["APPROVED", "DECLINED", "DUPLICATE"]);
/** APPROVED, DECLINED or DUPLICATE. */
export type Outcome = z.output<typeof OutcomeSchema>;

/** The record written to `payment_results`, one per request record. */
export const PaymentResultSchema = z.object({
  payment_id: idSchema("payment_id"),
  outcome: OutcomeSchema,
  reason: z.string().nullable(),
  amount: z.number(),
  currency: z.string(),
  merchant_id: z.string(),
  customer_id: z.string(),
  correlation_id: z.string(),
  created_at: z.iso.datetime({ offset: true }),
  processed_at: z.iso.datetime({ offset: true }),
}).meta({ id: "PaymentResult" });
/** A payment's committed result. */
export type PaymentResult = z.output<typeof PaymentResultSchema>;

/** Builds the Kafka record value for an accepted request. */
export function toPaymentEvent(
  request: PaymentRequest,
  context: { correlationId: string; source: string; now: Date },
): PaymentEvent {
  return {
    payment_id: request.payment_id,
    amount: request.amount,
    merchant_id: request.merchant_id,
    customer_id: request.customer_id,
    currency: request.currency,
    description: request.description ?? null,
    status: "PENDING",
    created_at: context.now.toISOString(),
    correlation_id: context.correlationId,
    source: context.source,
  };
}
