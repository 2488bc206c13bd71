/**
 * Splits a transaction's output records into sends of bounded size. kafkajs puts
 * everything of one send for a partition into one record batch; a batch larger than
 * the broker's `message.max.bytes` (1 MiB by default) is refused with a
 * non-retriable MESSAGE_TOO_LARGE, which would stall the partition on every retry.
 *
 * @module
 */
import type { OutputRecord } from "./results.ts";

/** Default budget of one send: well under the broker's 1 MiB default. */
export const MAX_SEND_BYTES = 256 * 1024;

/** Bytes a record puts on the wire, near enough to keep batches under the budget. */
export function recordBytes(record: OutputRecord): number {
  const size = (value: string | Uint8Array | null) =>
    value === null ? 0 : typeof value === "string" ? value.length * 3 : value.byteLength;
  let bytes = 64 + size(record.key) + size(record.value);
  for (const [name, value] of Object.entries(record.headers)) bytes += name.length + size(value);
  return bytes;
}

/**
 * Consecutive groups of records, each at most `maxBytes` (a record larger than that
 * travels alone), in their original order.
 *
 * @example
 * ```ts
 * for (const chunk of chunkBySize(outputs)) await transaction.sendBatch(...chunk...);
 * ```
 */
export function chunkBySize(
  records: readonly OutputRecord[],
  maxBytes: number = MAX_SEND_BYTES,
): OutputRecord[][] {
  const chunks: OutputRecord[][] = [];
  let current: OutputRecord[] = [];
  let bytes = 0;
  for (const record of records) {
    const size = recordBytes(record);
    if (current.length > 0 && bytes + size > maxBytes) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(record);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}
