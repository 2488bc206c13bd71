/**
 * The records of the changelog topic `payment_decisions`: what the consumer has
 * decided, written in the same Kafka transaction as the results, dead letters and
 * consumed offsets, so the changelog can never disagree with `payment_results`.
 *
 * Two kinds, both on the changelog partition numbered like the input partition:
 * - a decision per APPROVED or DECLINED payment, keyed by `payment_id` (a DUPLICATE
 *   changes nothing that is remembered, and a dead letter decides nothing);
 * - one progress record per transaction, keyed {@linkcode PROGRESS_KEY}, naming the
 *   last input offset the transaction answered, so a new owner of the partition can
 *   skip records a fenced predecessor answered after the group offsets were read.
 *   Compaction keeps only the newest progress record.
 *
 * @module
 */
import type { Outcome } from "@payments/shared/payment";
import type { OutputRecord } from "../results.ts";

/**
 * Key of the progress records. Payment ids start with a letter or digit, so it
 * cannot be a payment id.
 */
export const PROGRESS_KEY = "#progress";

/** A payment that was decided (not a DUPLICATE): what de-duplication and velocity need. */
export interface DecidedPayment {
  paymentId: string;
  outcome: Exclude<Outcome, "DUPLICATE">;
  customerId: string;
  /** The payment's `created_at`, in ms since the epoch. */
  createdAtMs: number;
  decidedAtMs: number;
  /** Where the request was read. */
  inputPartition: number;
  inputOffset: number;
}

/** The last input offset a transaction answered on a partition. */
export interface Progress {
  inputPartition: number;
  inputOffset: number;
}

/** A changelog record, read back. */
export type ChangelogEntry =
  | { kind: "decision"; decision: DecidedPayment }
  | { kind: "progress"; progress: Progress };

interface DecisionValue {
  payment_id: string;
  outcome: string;
  customer_id: string;
  created_at: string;
  decided_at: string;
  input_partition: number;
  input_offset: number;
}

/**
 * No headers: nobody but the consumer reads the changelog, and under Deno each header
 * costs kafkajs about 9 µs to encode (a record without any about 27 µs), on the path
 * every payment takes (docs/benchmarks.md).
 */
const headers = {};

/** The changelog record of a decision. */
export function decisionRecord(decision: DecidedPayment, topic: string): OutputRecord {
  const value: DecisionValue = {
    payment_id: decision.paymentId,
    outcome: decision.outcome,
    customer_id: decision.customerId,
    created_at: new Date(decision.createdAtMs).toISOString(),
    decided_at: new Date(decision.decidedAtMs).toISOString(),
    input_partition: decision.inputPartition,
    input_offset: decision.inputOffset,
  };
  return {
    topic,
    partition: decision.inputPartition,
    key: decision.paymentId,
    value: JSON.stringify(value),
    headers,
  };
}

/** The changelog record closing a transaction that answered up to `progress.inputOffset`. */
export function progressRecord(progress: Progress, topic: string): OutputRecord {
  return {
    topic,
    partition: progress.inputPartition,
    key: PROGRESS_KEY,
    value: JSON.stringify({
      input_partition: progress.inputPartition,
      input_offset: progress.inputOffset,
    }),
    headers,
  };
}

const decoder = new TextDecoder();
const isInteger = (value: unknown): value is number => Number.isSafeInteger(value);

/**
 * Reads a changelog record back; `undefined` for a record this version does not
 * understand (the caller counts and skips it rather than stop restoring).
 */
export function readChangelogRecord(
  key: Uint8Array | string | null,
  value: Uint8Array | string | null,
): ChangelogEntry | undefined {
  if (key === null || value === null) return undefined;
  const text = (bytes: Uint8Array | string) =>
    typeof bytes === "string" ? bytes : decoder.decode(bytes);
  let parsed: Partial<DecisionValue>;
  try {
    parsed = JSON.parse(text(value));
  } catch {
    return undefined;
  }
  if (typeof parsed !== "object" || parsed === null) return undefined;
  const { input_partition: inputPartition, input_offset: inputOffset } = parsed;
  if (!isInteger(inputPartition) || !isInteger(inputOffset)) return undefined;
  if (text(key) === PROGRESS_KEY) {
    return { kind: "progress", progress: { inputPartition, inputOffset } };
  }
  const createdAtMs = Date.parse(parsed.created_at ?? "");
  const decidedAtMs = Date.parse(parsed.decided_at ?? "");
  if (
    typeof parsed.payment_id !== "string" || typeof parsed.customer_id !== "string" ||
    (parsed.outcome !== "APPROVED" && parsed.outcome !== "DECLINED") ||
    Number.isNaN(createdAtMs) || Number.isNaN(decidedAtMs)
  ) {
    return undefined;
  }
  return {
    kind: "decision",
    decision: {
      paymentId: parsed.payment_id,
      outcome: parsed.outcome,
      customerId: parsed.customer_id,
      createdAtMs,
      decidedAtMs,
      inputPartition,
      inputOffset,
    },
  };
}
