/**
 * A correct read_committed filter for kafkajs 2.2.4, installed before kafkajs loads.
 *
 * kafkajs drops the records of aborted transactions with the list of aborted
 * transactions the broker sends with each fetch, and assumes that list is sorted by
 * each transaction's first offset, taking at most one transaction from it per record.
 * The broker lists them in the order their abort markers were written instead. When
 * two producers' aborted transactions interleave on a partition and end in another
 * order than they began (a consumer instance killed with several transactions open,
 * each fenced by its task's new owner), kafkajs hands out records of an aborted
 * transaction, and can go on treating a producer as aborted after its abort marker,
 * dropping that producer's next, committed records (and, when that empties a batch,
 * moving past them without calling the consumer at all). `read_committed_test.ts`
 * reproduces both against a real broker. Payments read from the repartition topic,
 * which every payment task writes, must never include an aborted forward nor lose a
 * committed one.
 *
 * The replacement applies the Java client's rule (Fetcher's aborted-transaction
 * handling): the aborted transactions ordered by first offset; before each record,
 * every transaction that began at or before it marks its producer aborted; a
 * producer's abort marker ends that; a transactional record of a producer marked
 * aborted is dropped. It replaces kafkajs' module in the CommonJS module cache, so
 * kafkajs' consumer uses it: the workspace's `kafkajs` import (shared/kafkajs/mod.ts)
 * loads this module before kafkajs itself.
 *
 * @module
 */
import { createRequire } from "node:module";

/** A record as kafkajs' fetch decodes it (the fields this filter reads). */
export interface FetchedRecord {
  offset: string;
  key: Uint8Array | null;
  isControlRecord?: boolean;
  batchContext: { producerId: string; inTransaction: boolean };
}

/** One aborted transaction, as the broker lists it with a fetch. */
export interface AbortedTransaction {
  producerId: string;
  firstOffset: string;
}

/** The key of an abort marker: control record version 0, type 0 (ABORT). */
const ABORT_KEY = [0, 0, 0, 0];

const isAbortMarker = (record: FetchedRecord) =>
  record.isControlRecord === true && record.key !== null && record.key.length === 4 &&
  ABORT_KEY.every((byte, i) => record.key![i] === byte);

/**
 * The records of one fetched partition without those of aborted transactions, in
 * order (control records are kept: kafkajs drops them afterwards).
 */
export function withoutAborted<R extends FetchedRecord>(
  { messages, abortedTransactions }: { messages: R[]; abortedTransactions?: AbortedTransaction[] },
): R[] {
  if (!abortedTransactions || abortedTransactions.length === 0) return messages;
  const pending = [...abortedTransactions].sort((a, b) =>
    Number(BigInt(a.firstOffset) - BigInt(b.firstOffset))
  );
  const aborted = new Set<string>();
  return messages.filter((record) => {
    const offset = BigInt(record.offset);
    while (pending.length > 0 && BigInt(pending[0]!.firstOffset) <= offset) {
      aborted.add(pending.shift()!.producerId);
    }
    const { producerId, inTransaction } = record.batchContext;
    if (isAbortMarker(record)) {
      aborted.delete(producerId);
      return true;
    }
    return !(inTransaction && aborted.has(producerId));
  });
}

const require = createRequire(import.meta.url);
const filterPath = require.resolve("kafkajs/src/consumer/filterAbortedMessages.js");
const batchPath = require.resolve("kafkajs/src/consumer/batch.js");

if (require.cache[batchPath] && require.cache[filterPath]?.exports !== withoutAborted) {
  throw new Error(
    "kafkajs was loaded before its read_committed fix: import kafkajs only through the " +
      "workspace's `kafkajs` specifier (shared/kafkajs/mod.ts), never `npm:kafkajs` directly",
  );
}
require.cache[filterPath] = {
  id: filterPath,
  filename: filterPath,
  loaded: true,
  exports: withoutAborted,
} as unknown as NodeJS.Module;

/** Whether kafkajs' consumer filters aborted transactions with {@linkcode withoutAborted}. */
export function readCommittedFixed(): boolean {
  return require(filterPath) === withoutAborted;
}
