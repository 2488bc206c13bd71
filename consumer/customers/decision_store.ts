/**
 * The store of a customer task: the payments decided on one customer partition, a
 * cache of the partition of `payment_decisions.by_customer`. The velocity rule asks it
 * for a customer's payments near a time (an index on customer and `created_at`, so
 * nothing is loaded into memory at start, however many decisions a burst left
 * behind); the status route asks it for one payment's decision.
 *
 * @module
 */
import type { DatabaseSync } from "node:sqlite";
import {
  type OpenedStore,
  openStore,
  type OpenStoreOptions,
  type StoreKind,
  type TaskStore,
} from "../store/sqlite_store.ts";
import type { StoreCheck } from "../store/store_check.ts";
import type { Decision } from "./decision_records.ts";

/** A customer task's store. */
export interface DecisionStore extends TaskStore<Decision> {
  /**
   * How many of the customer's decided payments were created strictly between
   * `afterMs` and `beforeMs`, counted up to `atMost`: the velocity rule only asks
   * whether the limit is passed, and a customer bursting far past it must not make
   * every one of its payments read all the others.
   */
  countBetween(customerId: string, afterMs: number, beforeMs: number, atMost: number): number;
  /** The decision of one payment, if this partition made it. */
  decision(paymentId: string): Decision | undefined;
}

interface DecisionRow {
  payment_id: string;
  outcome: "APPROVED" | "DECLINED";
  reason: string | null;
  customer_id: string;
  created_at_ms: number;
  decided_at_ms: number;
  input_partition: number;
  input_offset: number;
  forward_partition: number;
  forward_offset: number;
  correlation_id: string;
}

const decisions: StoreKind<Decision, DecisionStore> = {
  schemaVersion: "1",
  schema: `
    CREATE TABLE IF NOT EXISTS decisions (
      payment_id TEXT PRIMARY KEY,
      outcome TEXT NOT NULL,
      reason TEXT,
      customer_id TEXT NOT NULL,
      created_at_ms INTEGER NOT NULL,
      decided_at_ms INTEGER NOT NULL,
      input_partition INTEGER NOT NULL,
      input_offset INTEGER NOT NULL,
      forward_partition INTEGER NOT NULL,
      forward_offset INTEGER NOT NULL,
      correlation_id TEXT NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX IF NOT EXISTS decisions_by_customer ON decisions (customer_id, created_at_ms);
    CREATE INDEX IF NOT EXISTS decisions_by_decided_at ON decisions (decided_at_ms);
  `,
  table: "decisions",
  keyColumn: "payment_id",
  timeColumn: "decided_at_ms",
  rowTime: (decision) => decision.decidedAtMs,
  rowInputOffset: (decision) => decision.forwardOffset,
  prepareWrite(db: DatabaseSync) {
    // A payment is decided once: one statement; only a record read again (a restore
    // over what the store already holds) replaces the row.
    const insert = db.prepare(
      "INSERT OR IGNORE INTO decisions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    );
    const replace = db.prepare(
      "INSERT OR REPLACE INTO decisions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    );
    return (d: Decision) => {
      const row = [
        d.paymentId,
        d.outcome,
        d.reason,
        d.customerId,
        d.createdAtMs,
        d.decidedAtMs,
        d.inputPartition,
        d.inputOffset,
        d.forwardPartition,
        d.forwardOffset,
        d.correlationId,
      ] as const;
      if (insert.run(...row).changes > 0) return true;
      replace.run(...row);
      return false;
    };
  },
  build(db, base) {
    // Counted inside SQLite on the (customer_id, created_at_ms) index: no row reaches
    // JavaScript, and the LIMIT stops the scan at `atMost`.
    const near = db.prepare(
      `SELECT COUNT(*) AS n FROM (SELECT 1 FROM decisions
         WHERE customer_id = ? AND created_at_ms > ? AND created_at_ms < ? LIMIT ?)`,
    );
    const one = db.prepare("SELECT * FROM decisions WHERE payment_id = ?");
    return Object.assign(Object.create(base) as TaskStore<Decision>, {
      countBetween(customerId: string, afterMs: number, beforeMs: number, atMost: number) {
        return (near.get(customerId, afterMs, beforeMs, atMost) as { n: number }).n;
      },
      decision(paymentId: string): Decision | undefined {
        const row = one.get(paymentId) as DecisionRow | undefined;
        if (!row) return undefined;
        return {
          paymentId: row.payment_id,
          outcome: row.outcome,
          reason: row.reason,
          customerId: row.customer_id,
          createdAtMs: row.created_at_ms,
          decidedAtMs: row.decided_at_ms,
          inputPartition: row.input_partition,
          inputOffset: row.input_offset,
          forwardPartition: row.forward_partition,
          forwardOffset: row.forward_offset,
          correlationId: row.correlation_id,
        };
      },
    });
  },
};

/** Opens (or creates) a customer task's store; an unusable file is moved aside. */
export function openDecisionStore(
  options: OpenStoreOptions,
  checked?: StoreCheck,
): OpenedStore<DecisionStore> {
  return openStore(options, decisions, checked);
}
