/**
 * What the two changelogs share: one progress record per transaction, keyed
 * {@linkcode PROGRESS_KEY}, naming the last input offset the transaction answered, so
 * a new owner of the partition can skip records a fenced predecessor answered after
 * the group offsets were read (compaction keeps only the newest), and reading a
 * record's JSON value back. Each task kind writes its own rows beside them
 * (`payments/claim_records.ts`, `customers/decision_records.ts`).
 *
 * Changelog records carry no headers: nobody but the consumer reads them, and under
 * Deno each header costs kafkajs about 9 µs to encode on the path every payment takes
 * (docs/benchmarks.md).
 *
 * @module
 */
import type { OutputRecord } from "../results.ts";
import type { ChangelogEntry } from "./sqlite_store.ts";

/**
 * Key of the progress records. Payment ids start with a letter or digit, so it
 * cannot be a payment id.
 */
export const PROGRESS_KEY = "#progress";

/** No headers on changelog records (see the module comment). */
export const NO_HEADERS: Record<string, string> = Object.freeze({}) as Record<string, string>;

/** The changelog record closing a transaction that answered up to `inputOffset` of `partition`. */
export function progressRecord(
  partition: number,
  inputOffset: number,
  topic: string,
): OutputRecord {
  return {
    topic,
    partition,
    key: PROGRESS_KEY,
    value: `{"input_partition":${partition},"input_offset":${inputOffset}}`,
    headers: NO_HEADERS,
  };
}

const decoder = new TextDecoder();

/** A record's bytes (or string) as text. */
export function text(bytes: Uint8Array | string): string {
  return typeof bytes === "string" ? bytes : decoder.decode(bytes);
}

/** Whether `value` is a safe integer. */
export const isInteger = (value: unknown): value is number => Number.isSafeInteger(value);

/**
 * Reads a changelog record back: progress, a row (`readRow` on the parsed JSON value),
 * or `undefined` for a record this version does not understand (the caller counts
 * and skips it rather than stop restoring).
 */
export function readChangelogRecord<Row>(
  key: Uint8Array | string | null,
  value: Uint8Array | string | null,
  readRow: (key: string, value: Record<string, unknown>) => Row | undefined,
): ChangelogEntry<Row> | undefined {
  if (key === null || value === null) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text(value));
  } catch {
    return undefined;
  }
  if (typeof parsed !== "object" || parsed === null) return undefined;
  const fields = parsed as Record<string, unknown>;
  const name = text(key);
  if (name === PROGRESS_KEY) {
    return isInteger(fields.input_offset)
      ? { kind: "progress", inputOffset: fields.input_offset }
      : undefined;
  }
  const row = readRow(name, fields);
  return row === undefined ? undefined : { kind: "row", row };
}
