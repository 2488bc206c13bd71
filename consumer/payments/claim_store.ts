/**
 * The store of a payment task: the payment ids claimed on one request partition (with
 * what the status route answers: customer, times, where the request was read, its
 * correlation id, its repeats), a cache of the partition of `payment_decisions`.
 *
 * @module
 */
import type { DatabaseSync, StatementSync } from "node:sqlite";
import {
  type OpenedStore,
  openStore,
  type OpenStoreOptions,
  type StoreKind,
  type TaskStore,
} from "../store/sqlite_store.ts";
import type { StoreCheck } from "../store/store_check.ts";
import type { Claim } from "./claim_records.ts";

/** Ids looked up per statement (SQLite's default limit of host parameters is 32 766). */
const LOOKUP_BATCH = 500;

/** A payment task's store. */
export interface ClaimStore extends TaskStore<Claim> {
  /** The claims of those of `paymentIds` that were claimed. */
  claimed(paymentIds: readonly string[]): Map<string, Claim>;
}

interface ClaimRow {
  payment_id: string;
  customer_id: string;
  created_at_ms: number;
  claimed_at_ms: number;
  input_partition: number;
  input_offset: number;
  correlation_id: string;
  duplicates: number;
  legacy_outcome: string | null;
}

function fromRow(row: ClaimRow): Claim {
  return {
    paymentId: row.payment_id,
    customerId: row.customer_id,
    createdAtMs: row.created_at_ms,
    claimedAtMs: row.claimed_at_ms,
    inputPartition: row.input_partition,
    inputOffset: row.input_offset,
    correlationId: row.correlation_id,
    duplicates: row.duplicates,
    ...(row.legacy_outcome === "APPROVED" || row.legacy_outcome === "DECLINED"
      ? { legacyOutcome: row.legacy_outcome }
      : {}),
  };
}

const claims: StoreKind<Claim, ClaimStore> = {
  // 1 was the single-stage consumer's decisions table: such a store is rebuilt from the
  // changelog, whose decision records read as claims.
  schemaVersion: "2",
  schema: `
    CREATE TABLE IF NOT EXISTS claims (
      payment_id TEXT PRIMARY KEY,
      customer_id TEXT NOT NULL,
      created_at_ms INTEGER NOT NULL,
      claimed_at_ms INTEGER NOT NULL,
      input_partition INTEGER NOT NULL,
      input_offset INTEGER NOT NULL,
      correlation_id TEXT NOT NULL,
      duplicates INTEGER NOT NULL,
      legacy_outcome TEXT
    ) WITHOUT ROWID;
    CREATE INDEX IF NOT EXISTS claims_by_claimed_at ON claims (claimed_at_ms);
  `,
  table: "claims",
  keyColumn: "payment_id",
  timeColumn: "claimed_at_ms",
  rowTime: (claim) => claim.claimedAtMs,
  rowInputOffset: (claim) => claim.inputOffset,
  prepareWrite(db: DatabaseSync) {
    // One statement for a new claim (most writes); a repeat's new count updates the row.
    const insert = db.prepare("INSERT OR IGNORE INTO claims VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
    const update = db.prepare(
      `UPDATE claims SET customer_id = ?, created_at_ms = ?, claimed_at_ms = ?, input_partition = ?,
         input_offset = ?, correlation_id = ?, duplicates = ?, legacy_outcome = ?
       WHERE payment_id = ?`,
    );
    return (c: Claim) => {
      const fields = [
        c.customerId,
        c.createdAtMs,
        c.claimedAtMs,
        c.inputPartition,
        c.inputOffset,
        c.correlationId,
        c.duplicates,
        c.legacyOutcome ?? null,
      ] as const;
      if (insert.run(c.paymentId, ...fields).changes > 0) return true;
      update.run(...fields, c.paymentId);
      return false;
    };
  },
  build(db, base) {
    const lookups = new Map<number, StatementSync>();
    const lookup = (n: number) => {
      let statement = lookups.get(n);
      if (!statement) {
        const marks = Array.from({ length: n }, () => "?").join(",");
        statement = db.prepare(`SELECT * FROM claims WHERE payment_id IN (${marks})`);
        lookups.set(n, statement);
      }
      return statement;
    };
    return Object.assign(Object.create(base) as TaskStore<Claim>, {
      claimed(paymentIds: readonly string[]) {
        const found = new Map<string, Claim>();
        for (let i = 0; i < paymentIds.length; i += LOOKUP_BATCH) {
          const ids = paymentIds.slice(i, i + LOOKUP_BATCH);
          for (const row of lookup(ids.length).all(...ids)) {
            const claim = fromRow(row as unknown as ClaimRow);
            found.set(claim.paymentId, claim);
          }
        }
        return found;
      },
    });
  },
};

/**
 * Opens (or creates) a payment task's store; an unusable file is moved aside.
 *
 * @example
 * ```ts
 * const { store } = openClaimStore({
 *   file: ".data/consumer-state/payment-processor/payment_requests-0.sqlite",
 *   changelogTopic: "payment_decisions", partition: 0, retentionMs: 7 * 86_400_000,
 * });
 * ```
 */
export function openClaimStore(
  options: OpenStoreOptions,
  checked?: StoreCheck,
): OpenedStore<ClaimStore> {
  return openStore(options, claims, checked);
}
