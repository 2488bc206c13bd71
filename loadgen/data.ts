/**
 * Realistic, reproducible payments for load runs: merchants and customers from Zipf
 * distributions, log-normal amounts within the API's limits, several currencies,
 * ids unique to the run, and on request invalid payments and resent (duplicate) ones.
 *
 * @module
 */
import { minorUnits } from "@payments/shared/currency";
import { MAX_AMOUNT } from "@payments/shared/payment";
import { type Random, seededRandom, weightedPicker, zipfPicker } from "./random.ts";

/** A payment as the generator sends it (the API's request shape). */
export interface GeneratedPayment {
  payment_id: string;
  amount: number;
  merchant_id: string;
  customer_id: string;
  currency: string;
  description?: string;
}

/** The ways a generated payment can be invalid; each must be rejected with a 4xx. */
export const INVALID_KINDS = [
  "negative_amount",
  "amount_over_limit",
  "unknown_currency",
  "empty_merchant_id",
  "unknown_field",
  "amount_as_string",
] as const;
/** One of {@linkcode INVALID_KINDS}. */
export type InvalidKind = typeof INVALID_KINDS[number];

/** One HTTP request's worth of payments. */
export interface GeneratedRequest {
  /** What goes on the wire (may include a deliberately invalid payment). */
  payments: Record<string, unknown>[];
  /** Ids in order, for accounting. */
  ids: string[];
  /** Set when the request carries an invalid payment and must be rejected. */
  invalid?: InvalidKind;
  /** How many payments resend an id accepted earlier. */
  duplicates: number;
  /** The payments with fresh ids (what may be resent later once accepted). */
  fresh: GeneratedPayment[];
}

/** Where resent payments come from: payments the API already accepted. */
export interface DuplicateSource {
  /** Removes and returns one accepted payment, or undefined when there is none. */
  take(random: Random): GeneratedPayment | undefined;
}

/** Options of {@linkcode createPaymentGenerator}. */
export interface GeneratorOptions {
  seed: number;
  runId: string;
  invalidRatio?: number;
  duplicateRatio?: number;
  merchants?: number;
  customers?: number;
}

/** Currencies with their share of traffic. */
export const CURRENCY_WEIGHTS = [
  ["USD", 55],
  ["EUR", 20],
  ["GBP", 10],
  ["JPY", 5],
  ["CAD", 4],
  ["AUD", 3],
  ["CHF", 2],
  ["SEK", 1],
] as const;

/** Median amount of the log-normal distribution, in major units. */
export const MEDIAN_AMOUNT = 45;
const AMOUNT_SIGMA = 1.1;
const DESCRIPTIONS = ["Online order", "Subscription", "In-store purchase", "Invoice", "Top-up"];

/** Generates payments and requests; deterministic for a given seed and run id. */
export interface PaymentGenerator {
  /** One valid payment with a fresh id. */
  payment(): GeneratedPayment;
  /** One request of `size` payments, possibly invalid or carrying duplicates. */
  request(size: number, duplicates?: DuplicateSource): GeneratedRequest;
}

/**
 * A payment generator.
 *
 * @example
 * ```ts
 * const gen = createPaymentGenerator({ seed: 1, runId: "r1" });
 * gen.payment().payment_id; // "lg-r1-1"
 * ```
 */
export function createPaymentGenerator(options: GeneratorOptions): PaymentGenerator {
  const random = seededRandom(options.seed);
  const merchant = zipfPicker(options.merchants ?? 500, 1.1);
  const customer = zipfPicker(options.customers ?? 20_000, 0.8);
  const currency = weightedPicker(CURRENCY_WEIGHTS);
  const invalidRatio = options.invalidRatio ?? 0;
  const duplicateRatio = options.duplicateRatio ?? 0;
  let sequence = 0;

  // In the currency's minor unit (whole yen, cents, ...): the API refuses more decimals.
  const amount = (places: number) => {
    const scale = 10 ** places;
    for (;;) {
      const value = Math.round(MEDIAN_AMOUNT * Math.exp(AMOUNT_SIGMA * random.normal()) * scale) /
        scale;
      if (value > 0 && value <= MAX_AMOUNT) return value;
    }
  };
  const payment = (): GeneratedPayment => {
    sequence += 1;
    const code = currency(random);
    const p: GeneratedPayment = {
      payment_id: `lg-${options.runId}-${sequence}`,
      amount: amount(minorUnits(code)),
      merchant_id: `merchant-${String(merchant(random) + 1).padStart(4, "0")}`,
      customer_id: `customer-${String(customer(random) + 1).padStart(6, "0")}`,
      currency: code,
    };
    // Most payments carry a description; some do not, as the API allows.
    if (random.next() < 0.8) p.description = DESCRIPTIONS[random.int(DESCRIPTIONS.length)]!;
    return p;
  };

  return {
    payment,
    request(size, duplicates) {
      if (invalidRatio > 0 && random.next() < invalidRatio) {
        const payments: Record<string, unknown>[] = [];
        for (let i = 0; i < size; i++) payments.push({ ...payment() });
        const kind = INVALID_KINDS[random.int(INVALID_KINDS.length)]!;
        const at = random.int(size);
        payments[at] = corrupt(payments[at]!, kind);
        const ids = payments.map((p) => String(p.payment_id));
        return { payments, ids, invalid: kind, duplicates: 0, fresh: [] };
      }
      const payments: Record<string, unknown>[] = [];
      const fresh: GeneratedPayment[] = [];
      for (let i = 0; i < size; i++) {
        const resent = duplicateRatio > 0 && random.next() < duplicateRatio
          ? duplicates?.take(random)
          : undefined;
        const p = resent ?? payment();
        if (!resent) fresh.push(p);
        payments.push({ ...p });
      }
      const ids = payments.map((p) => String(p.payment_id));
      return { payments, ids, duplicates: size - fresh.length, fresh };
    },
  };
}

/** A copy of `payment` broken the way `kind` says. */
export function corrupt(
  payment: Record<string, unknown>,
  kind: InvalidKind,
): Record<string, unknown> {
  switch (kind) {
    case "negative_amount":
      return { ...payment, amount: -Math.abs(Number(payment.amount) || 1) };
    case "amount_over_limit":
      return { ...payment, amount: MAX_AMOUNT + 0.01 };
    case "unknown_currency":
      return { ...payment, currency: "ZZZ" };
    case "empty_merchant_id":
      return { ...payment, merchant_id: "" };
    case "unknown_field":
      return { ...payment, card_number: "4111111111111111" };
    case "amount_as_string":
      return { ...payment, amount: String(payment.amount) };
  }
}

/**
 * A bounded pool of accepted payments to resend. Each payment is taken at most
 * once, so every resend is the second occurrence of its id and never repeats an
 * id inside one request.
 */
export class AcceptedPool implements DuplicateSource {
  #items: GeneratedPayment[] = [];
  constructor(readonly capacity = 10_000) {}
  get size(): number {
    return this.#items.length;
  }
  /** Offers accepted payments; when full, a random old one makes room. */
  add(payments: Iterable<GeneratedPayment>, random: Random): void {
    for (const p of payments) {
      if (this.#items.length < this.capacity) this.#items.push(p);
      else this.#items[random.int(this.capacity)] = p;
    }
  }
  take(random: Random): GeneratedPayment | undefined {
    if (this.#items.length === 0) return undefined;
    const at = random.int(this.#items.length);
    const last = this.#items.pop()!;
    if (at === this.#items.length) return last;
    const picked = this.#items[at]!;
    this.#items[at] = last;
    return picked;
  }
}
