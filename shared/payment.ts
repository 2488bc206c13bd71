/**
 * The payment contract: one set of zod schemas validates HTTP requests, Kafka
 * records and results, and generates the OpenAPI document, so they cannot disagree.
 *
 * @module
 */
import { z } from "zod";
import { decimalPlaces, minorUnits } from "./currency.ts";

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
  return roundToPlaces(value, 2);
}

/** Rounds to `places` decimal places, half away from zero for positive amounts. */
function roundToPlaces(value: number, places: number): number {
  const scale = 10 ** places;
  return Math.round((value + Number.EPSILON) * scale) / scale;
}

function idSchema(field: string) {
  return z.string()
    .min(1, `${field} must not be empty`)
    .max(MAX_ID_LENGTH, `${field} must be at most ${MAX_ID_LENGTH} characters`)
    .regex(SAFE_ID, `${field} may contain only letters, digits, '.', '_', ':' and '-'`);
}

/**
 * A payment id as a client may send it: 1-64 of `[A-Za-z0-9._:-]`, starting with a letter
 * or digit. The same check wherever an id comes in (a POST body, the path of
 * `GET /payments/{payment_id}`), so an id that was accepted can always be asked about.
 *
 * @example
 * ```ts
 * PaymentIdSchema.safeParse("TEST-001").success; // true
 * PaymentIdSchema.safeParse("a b").success; // false
 * ```
 */
export const PaymentIdSchema = idSchema("payment_id");

/** A correlation id: 1-128 visible ASCII characters. */
export const CorrelationIdSchema = z.string()
  .min(1)
  .max(MAX_CORRELATION_ID_LENGTH)
  .regex(SAFE_CORRELATION_ID, "correlation_id must be visible ASCII without spaces");

/** Whether a client-supplied correlation id may be propagated as is. */
export function isSafeCorrelationId(value: string | null | undefined): value is string {
  return value != null && CorrelationIdSchema.safeParse(value).success;
}

/**
 * An amount as a client sends it, in major units: finite, above 0, at most 10000. How
 * many decimal places it may have depends on its currency, which the payment schema
 * checks ({@linkcode checkAmountPlaces}); it is never rounded.
 */
export const AmountSchema = z.number()
  .gt(0, "amount must be greater than 0")
  .max(MAX_AMOUNT, `amount must be at most ${MAX_AMOUNT}`)
  .meta({
    description: "In major units, as many decimal places as the currency's ISO 4217 minor " +
      "unit at most (2 for USD and EUR, 0 for JPY, 3 for BHD and KWD); a request with more " +
      "is refused (400), never rounded. What was stored is echoed in the 202.",
  });

/** An ISO-4217 currency code in upper case, published as the enum of accepted codes. */
export const CurrencySchema = z.enum(ISO_CURRENCIES, {
  error: "currency must be an ISO-4217 code such as USD",
}).meta({ description: "ISO-4217 currency code in upper case (USD, EUR, ...)" });

/**
 * Refuses an amount with more decimal places than its currency's minor unit, at the
 * path `amount`: the lab rounds (1.005 became 1.01, 1.004 became 1), and a payment
 * service must not change a sum a client asked for. It runs when both fields are
 * otherwise valid, beside the other fields' problems, so a client learns of all at once.
 */
function checkAmountPlaces(
  payment: { amount: number; currency: string },
  ctx: z.RefinementCtx,
): void {
  const allowed = minorUnits(payment.currency);
  if (decimalPlaces(payment.amount) <= allowed) return;
  ctx.addIssue({
    code: "custom",
    path: ["amount"],
    message: allowed === 0
      ? `amount must be a whole number in ${payment.currency} (no minor unit); it is never rounded`
      : `amount has more than ${allowed} decimal places, the minor unit of ${payment.currency}; ` +
        "it is never rounded",
  });
}

/**
 * Whether the fields a refinement reads parsed without problems (so it runs beside the
 * other fields' problems, not after them): `value` is what parsing made so far.
 */
const fieldsValid =
  (...fields: string[]) => (payload: { value: unknown; issues: { path?: PropertyKey[] }[] }) =>
    typeof payload.value === "object" && payload.value !== null &&
    fields.every((field) => (payload.value as Record<string, unknown>)[field] !== undefined) &&
    payload.issues.every((issue) => (issue.path?.length ?? 0) > 0) &&
    payload.issues.every((issue) => !fields.includes(String(issue.path?.[0])));

/** One payment as a client submits it. Unknown fields are rejected. */
export const PaymentRequestSchema = z.strictObject({
  payment_id: PaymentIdSchema,
  amount: AmountSchema,
  merchant_id: idSchema("merchant_id"),
  customer_id: idSchema("customer_id"),
  currency: CurrencySchema.default("USD"),
  description: z.string().max(MAX_DESCRIPTION_LENGTH).optional(),
}).superRefine(checkAmountPlaces, { when: fieldsValid("amount", "currency") })
  .meta({ id: "PaymentRequest" });
/** A validated payment request (amount as sent, currency defaulted). */
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

/**
 * The decimal places an event's amount is kept to: its currency's minor unit, never
 * fewer than the lab's cents. Records of other producers are read as before for every
 * currency of at most two decimals (rounded to cents, as the lab rounds); BHD, KWD
 * and the other currencies of three (or four) keep them, so what this API accepted
 * (BHD 1.234, or 0.001) is processed as stored rather than cut to cents or refused.
 */
export function eventAmountPlaces(currency: string): number {
  return Math.max(2, minorUnits(currency));
}

/** The record written to `payment_requests`. */
export const PaymentEventSchema = z.object({
  payment_id: idSchema("payment_id"),
  // Positive on its own, so a bad amount is named even when the currency is bad too;
  // the refinement below also refuses what would round to 0 in the currency.
  amount: z.number().positive("amount must be greater than 0").max(
    MAX_AMOUNT,
    `amount must be at most ${MAX_AMOUNT}`,
  ),
  merchant_id: idSchema("merchant_id"),
  customer_id: idSchema("customer_id"),
  currency: CurrencySchema,
  description: z.string().max(MAX_DESCRIPTION_LENGTH).nullable().optional(),
  status: z.literal("PENDING"),
  created_at: CreatedAtSchema,
  correlation_id: CorrelationIdSchema,
  source: z.string().min(1).max(MAX_ID_LENGTH),
}).superRefine((event, ctx) => {
  // Anything that would round to 0 is refused, which the lab's `gt=0` let through.
  if (roundToPlaces(event.amount, eventAmountPlaces(event.currency)) > 0) return;
  const smallest = 10 ** -eventAmountPlaces(event.currency);
  ctx.addIssue({
    code: "custom",
    path: ["amount"],
    message: `amount must be at least ${smallest} ${event.currency} after rounding`,
  });
}, { when: fieldsValid("amount", "currency") })
  .transform((event) => ({
    ...event,
    amount: roundToPlaces(event.amount, eventAmountPlaces(event.currency)),
  }))
  .meta({ id: "PaymentEvent" });
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
