/**
 * The local state of one input partition: a `node:sqlite` database holding the
 * decided payments of the partition (by payment id, with what the velocity rule
 * needs), the highest input offset with a committed answer, and the changelog
 * offset up to which it agrees with Kafka.
 *
 * It is a cache of the changelog, never the source of truth: it is written only
 * after the Kafka transaction that wrote the same decisions has committed, so a
 * crash leaves it behind Kafka, never ahead, and a restore reads the changelog from
 * its checkpoint. A file that cannot be opened or fails its integrity check is moved
 * aside and the store rebuilt from the changelog.
 *
 * node:sqlite is synchronous: every operation here is small (one statement, or one
 * SQLite transaction per Kafka transaction or fetched batch) so the event loop keeps
 * heartbeating.
 *
 * @module
 */
import { DatabaseSync, type StatementSync } from "node:sqlite";
import type { ChangelogEntry, DecidedPayment } from "./changelog_records.ts";

/** Bumped when the tables change; a store of another version is rebuilt. */
const SCHEMA_VERSION = "1";
/** Rows deleted per statement when purging, so one purge never blocks for long. */
const PURGE_BATCH = 5_000;
/** Ids looked up per statement (SQLite's default limit of host parameters is 32 766). */
const LOOKUP_BATCH = 500;

/** Who a store belongs to; a store written for another changelog is not reused. */
export interface StoreIdentity {
  changelogTopic: string;
  partition: number;
}

/** A decision as velocity needs it. */
export interface RecentDecision {
  paymentId: string;
  customerId: string;
  createdAtMs: number;
}

/** One partition's store. */
export interface PartitionStore {
  readonly file: string;
  readonly partition: number;
  /** Next changelog offset this store has not applied: it agrees with Kafka below it. */
  readonly changelogOffset: number;
  /** Highest input offset with a committed answer, or -1. */
  readonly handledUpTo: number;
  /** Decided payment ids remembered. */
  readonly entries: number;
  /** The ids of `paymentIds` that were decided. */
  decided(paymentIds: readonly string[]): Set<string>;
  /**
   * Applies changelog entries (read in a restore, or just committed by this worker)
   * and moves the checkpoint to `changelogOffset`, in one SQLite transaction.
   * Decisions older than the retention at `nowMs` are not kept.
   */
  apply(entries: readonly ChangelogEntry[], changelogOffset: number, nowMs: number): void;
  /** Decisions made at or after `sinceMs`, oldest first (to prime the velocity rule). */
  decidedSince(sinceMs: number): RecentDecision[];
  /**
   * Forgets decisions older than the retention at `nowMs`, at most `maxRows` of them
   * (call again for the rest); returns how many.
   */
  purge(nowMs: number, maxRows?: number): number;
  /** Empties the store (it disagreed with the changelog) so it is rebuilt from offset 0. */
  reset(): void;
  close(): void;
}

/** What {@linkcode openPartitionStore} needs. */
export interface OpenStoreOptions extends StoreIdentity {
  file: string;
  /** How long a decision is remembered, in ms. */
  retentionMs: number;
}

/** An opened store, and what happened to an unusable file found in its place. */
export interface OpenedStore {
  store: PartitionStore;
  /** Set when the file found could not be used and was moved aside. */
  movedAside?: { to: string; reason: string };
}

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS decisions (
    payment_id TEXT PRIMARY KEY,
    outcome TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL,
    decided_at_ms INTEGER NOT NULL,
    input_offset INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE INDEX IF NOT EXISTS decisions_by_decided_at ON decisions (decided_at_ms);
  CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
`;

/**
 * Opens (or creates) the store in `options.file`. A file that is not a usable store
 * (corrupt, another schema version, another changelog) is moved aside to
 * `<file>.unusable-<time>` and a fresh store is created in its place.
 *
 * @example
 * ```ts
 * const { store } = openPartitionStore({
 *   file: ".data/consumer-state/payment-processor/payment_requests-0.sqlite",
 *   changelogTopic: "payment_decisions", partition: 0, retentionMs: 7 * 86_400_000,
 * });
 * ```
 */
export function openPartitionStore(options: OpenStoreOptions): OpenedStore {
  Deno.mkdirSync(dirname(options.file), { recursive: true });
  try {
    return { store: open(options) };
  } catch (error) {
    const to = `${options.file}.unusable-${new Date().toISOString().replaceAll(":", "-")}`;
    for (const suffix of ["", "-wal", "-shm"]) {
      try {
        Deno.renameSync(options.file + suffix, to + suffix);
      } catch (renameError) {
        if (!(renameError instanceof Deno.errors.NotFound)) throw renameError;
      }
    }
    return { store: open(options), movedAside: { to, reason: (error as Error).message } };
  }
}

function dirname(file: string): string {
  const slash = file.lastIndexOf("/");
  return slash <= 0 ? "." : file.slice(0, slash);
}

function open(options: OpenStoreOptions): PartitionStore {
  const db = new DatabaseSync(options.file);
  try {
    return prepare(db, options);
  } catch (error) {
    db.close();
    throw error;
  }
}

function prepare(db: DatabaseSync, options: OpenStoreOptions): PartitionStore {
  const check = db.prepare("PRAGMA quick_check").get() as { quick_check?: string } | undefined;
  if (check?.quick_check !== "ok") {
    throw new Error(`integrity check failed: ${JSON.stringify(check)}`);
  }
  db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;");
  db.exec(SCHEMA);
  const getMeta = db.prepare("SELECT value FROM meta WHERE key = ?");
  const setMeta = db.prepare(
    "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
  );
  const meta = (key: string) => (getMeta.get(key) as { value: string } | undefined)?.value;
  const identity = JSON.stringify({
    changelogTopic: options.changelogTopic,
    partition: options.partition,
  });
  const version = meta("schema_version");
  if (version === undefined) {
    setMeta.run("schema_version", SCHEMA_VERSION);
    setMeta.run("identity", identity);
  } else if (version !== SCHEMA_VERSION) {
    throw new Error(`schema version ${version}, this consumer writes ${SCHEMA_VERSION}`);
  } else if (meta("identity") !== identity) {
    throw new Error(`it belongs to ${meta("identity")}, not ${identity}`);
  }

  const insert = db.prepare(
    "INSERT OR IGNORE INTO decisions VALUES (?, ?, ?, ?, ?, ?)",
  );
  const replaceOlder = db.prepare(
    `UPDATE decisions SET outcome = ?, customer_id = ?, created_at_ms = ?, decided_at_ms = ?,
       input_offset = ? WHERE payment_id = ? AND decided_at_ms < ?`,
  );
  const lookups = new Map<number, StatementSync>();
  const lookup = (n: number) => {
    let statement = lookups.get(n);
    if (!statement) {
      const marks = Array.from({ length: n }, () => "?").join(",");
      statement = db.prepare(`SELECT payment_id FROM decisions WHERE payment_id IN (${marks})`);
      lookups.set(n, statement);
    }
    return statement;
  };
  const since = db.prepare(
    `SELECT payment_id, customer_id, created_at_ms FROM decisions
       WHERE decided_at_ms >= ? ORDER BY decided_at_ms`,
  );
  const purgeBatch = db.prepare(
    `DELETE FROM decisions WHERE payment_id IN
       (SELECT payment_id FROM decisions WHERE decided_at_ms < ? LIMIT ${PURGE_BATCH})`,
  );
  const count = () => (db.prepare("SELECT count(*) AS n FROM decisions").get() as { n: number }).n;

  let changelogOffset = Number(meta("changelog_offset") ?? 0);
  let handledUpTo = Number(meta("handled_up_to") ?? -1);
  let entries = count();

  const inTransaction = <T>(work: () => T): T => {
    db.exec("BEGIN IMMEDIATE");
    try {
      const result = work();
      db.exec("COMMIT");
      return result;
    } catch (error) {
      db.exec("ROLLBACK");
      throw error;
    }
  };

  const keep = (decision: DecidedPayment, oldest: number) => {
    if (decision.decidedAtMs < oldest) return;
    const { paymentId, outcome, customerId, createdAtMs, decidedAtMs, inputOffset } = decision;
    const added = insert.run(
      paymentId,
      outcome,
      customerId,
      createdAtMs,
      decidedAtMs,
      inputOffset,
    ).changes;
    if (added > 0) {
      entries++;
    } else {
      // Decided again after its retention ran out: the newer decision is remembered.
      replaceOlder.run(
        outcome,
        customerId,
        createdAtMs,
        decidedAtMs,
        inputOffset,
        paymentId,
        decidedAtMs,
      );
    }
  };

  return {
    file: options.file,
    partition: options.partition,
    get changelogOffset() {
      return changelogOffset;
    },
    get handledUpTo() {
      return handledUpTo;
    },
    get entries() {
      return entries;
    },
    decided(paymentIds) {
      const found = new Set<string>();
      for (let i = 0; i < paymentIds.length; i += LOOKUP_BATCH) {
        const ids = paymentIds.slice(i, i + LOOKUP_BATCH);
        for (const row of lookup(ids.length).all(...ids)) {
          found.add((row as { payment_id: string }).payment_id);
        }
      }
      return found;
    },
    apply(changes, offset, nowMs) {
      const oldest = nowMs - options.retentionMs;
      inTransaction(() => {
        let handled = handledUpTo;
        for (const change of changes) {
          if (change.kind === "decision") {
            keep(change.decision, oldest);
            handled = Math.max(handled, change.decision.inputOffset);
          } else {
            handled = Math.max(handled, change.progress.inputOffset);
          }
        }
        const next = Math.max(changelogOffset, offset);
        setMeta.run("changelog_offset", String(next));
        setMeta.run("handled_up_to", String(handled));
        changelogOffset = next;
        handledUpTo = handled;
      });
    },
    decidedSince(sinceMs) {
      return since.all(sinceMs).map((row) => {
        const r = row as { payment_id: string; customer_id: string; created_at_ms: number };
        return { paymentId: r.payment_id, customerId: r.customer_id, createdAtMs: r.created_at_ms };
      });
    },
    purge(nowMs, maxRows = 20 * PURGE_BATCH) {
      let purged = 0;
      while (purged < maxRows) {
        const n = Number(purgeBatch.run(nowMs - options.retentionMs).changes);
        purged += n;
        if (n < PURGE_BATCH) break;
      }
      entries -= purged;
      return purged;
    },
    reset() {
      inTransaction(() => {
        db.exec("DELETE FROM decisions");
        setMeta.run("changelog_offset", "0");
        setMeta.run("handled_up_to", "-1");
      });
      changelogOffset = 0;
      handledUpTo = -1;
      entries = 0;
    },
    close() {
      db.close();
    },
  };
}
