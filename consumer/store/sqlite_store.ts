/**
 * What every task store shares: a `node:sqlite` database in one file per partition,
 * checked before it is trusted, that remembers who it belongs to (changelog topic and
 * partition), the changelog offset up to which it agrees with Kafka, and the highest
 * input offset with a committed answer.
 *
 * A store is a cache of its changelog, never the source of truth: it is written only
 * after the Kafka transaction that wrote the same records has committed, so a crash
 * leaves it behind Kafka, never ahead, and a restore reads the changelog from its
 * checkpoint. A file that cannot be opened, fails its integrity check, has another
 * schema version or belongs to another changelog is moved aside and a fresh store is
 * rebuilt from the changelog.
 *
 * node:sqlite is synchronous: every operation is small (one statement, or one SQLite
 * transaction per Kafka transaction or fetched batch) so the event loop keeps
 * heartbeating; purges go in bounded slices.
 *
 * @module
 */
import { DatabaseSync, type StatementSync } from "node:sqlite";
import type { StoreCheck } from "./store_check.ts";

/** Who a store belongs to; a store written for another changelog is not reused. */
export interface StoreIdentity {
  changelogTopic: string;
  partition: number;
}

/** Where a store lives and how long it remembers. */
export interface OpenStoreOptions extends StoreIdentity {
  file: string;
  /** How long a record is remembered, in ms. */
  retentionMs: number;
}

/** Why a file found in a store's place was not used. */
export interface MovedAside {
  to: string;
  reason: string;
}

/** An opened store, and what happened to an unusable file found in its place. */
export interface OpenedStore<S> {
  store: S;
  movedAside?: MovedAside;
}

/** A changelog record read back, as every store understands it: progress, or the store's own kind. */
export type ChangelogEntry<Row> =
  | { kind: "progress"; inputOffset: number }
  | { kind: "row"; row: Row };

/** What the task and the restore need of any store. */
export interface TaskStore<Row> {
  readonly file: string;
  readonly partition: number;
  /** Next changelog offset this store has not applied: it agrees with Kafka below it. */
  readonly changelogOffset: number;
  /** Highest input offset with a committed answer, or -1. */
  readonly handledUpTo: number;
  /** Rows remembered. */
  readonly entries: number;
  /**
   * Applies changelog entries (read in a restore, or just committed by the task) and
   * moves the checkpoint to `changelogOffset`, in one SQLite transaction. Rows older
   * than the retention at `nowMs` are not kept.
   */
  apply(entries: readonly ChangelogEntry<Row>[], changelogOffset: number, nowMs: number): void;
  /**
   * Forgets rows older than the retention at `nowMs`, at most `maxRows` of them (call
   * again for the rest); returns how many.
   */
  purge(nowMs: number, maxRows?: number): number;
  /** Empties the store (it disagreed with the changelog) so it is rebuilt from offset 0. */
  reset(): void;
  close(): void;
}

/** What a kind of store adds to the shared part. */
export interface StoreKind<Row, S extends TaskStore<Row>> {
  /** Bumped when the tables change; a store of another version is rebuilt. */
  schemaVersion: string;
  /** `CREATE ... IF NOT EXISTS` statements of the kind's tables (the meta table is shared). */
  schema: string;
  /** The table whose rows `entries` counts and `purge` forgets. */
  table: string;
  /** The table's primary key column. */
  keyColumn: string;
  /** The column holding each row's time for the retention (ms since the epoch). */
  timeColumn: string;
  /** When a row was made (the retention counts from there). */
  rowTime(row: Row): number;
  /** The input offset a row answers, when it says (it moves `handledUpTo`). */
  rowInputOffset(row: Row): number | undefined;
  /**
   * Writes one row, an upsert (the newest record of a key wins); says whether it
   * added a key the store did not hold.
   */
  prepareWrite(db: DatabaseSync): (row: Row) => boolean;
  /** The store, with the kind's queries, around the shared part. */
  build(db: DatabaseSync, base: TaskStore<Row>): S;
}

/** Rows deleted per statement when purging, so one statement never blocks for long. */
export const PURGE_BATCH = 2_000;

const META =
  `CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;`;

function dirname(file: string): string {
  const slash = file.lastIndexOf("/");
  return slash <= 0 ? "." : file.slice(0, slash);
}

function moveAside(file: string): string {
  const to = `${file}.unusable-${new Date().toISOString().replaceAll(":", "-")}`;
  for (const suffix of ["", "-wal", "-shm"]) {
    try {
      Deno.renameSync(file + suffix, to + suffix);
    } catch (renameError) {
      if (!(renameError instanceof Deno.errors.NotFound)) throw renameError;
    }
  }
  return to;
}

/**
 * Opens (or creates) the store of `kind` in `options.file`. A file that is not a
 * usable store is moved aside to `<file>.unusable-<time>` and a fresh store is
 * created in its place. `checked` is what `store_check.ts` found of the file off the
 * event loop: given, the integrity check and the row count are not repeated here.
 */
export function openStore<Row, S extends TaskStore<Row>>(
  options: OpenStoreOptions,
  kind: StoreKind<Row, S>,
  checked?: StoreCheck,
): OpenedStore<S> {
  Deno.mkdirSync(dirname(options.file), { recursive: true });
  if (checked && !checked.ok) {
    const to = moveAside(options.file);
    return {
      store: open(options, kind, { ok: true, entries: 0 }),
      movedAside: { to, reason: checked.reason },
    };
  }
  try {
    return { store: open(options, kind, checked) };
  } catch (error) {
    const to = moveAside(options.file);
    return {
      store: open(options, kind, { ok: true, entries: 0 }),
      movedAside: { to, reason: (error as Error).message },
    };
  }
}

function open<Row, S extends TaskStore<Row>>(
  options: OpenStoreOptions,
  kind: StoreKind<Row, S>,
  checked: StoreCheck | undefined,
): S {
  const db = new DatabaseSync(options.file);
  try {
    return prepare(db, options, kind, checked);
  } catch (error) {
    db.close();
    throw error;
  }
}

function checkIdentity(db: DatabaseSync, options: OpenStoreOptions, version: string) {
  const getMeta = db.prepare("SELECT value FROM meta WHERE key = ?");
  const setMeta = db.prepare(
    "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
  );
  const meta = (key: string) => (getMeta.get(key) as { value: string } | undefined)?.value;
  const identity = JSON.stringify({
    changelogTopic: options.changelogTopic,
    partition: options.partition,
  });
  const found = meta("schema_version");
  if (found === undefined) {
    setMeta.run("schema_version", version);
    setMeta.run("identity", identity);
  } else if (found !== version) {
    throw new Error(`schema version ${found}, this consumer writes ${version}`);
  } else if (meta("identity") !== identity) {
    throw new Error(`it belongs to ${meta("identity")}, not ${identity}`);
  }
  return { meta, setMeta };
}

function prepare<Row, S extends TaskStore<Row>>(
  db: DatabaseSync,
  options: OpenStoreOptions,
  kind: StoreKind<Row, S>,
  checked: StoreCheck | undefined,
): S {
  if (!checked) {
    const check = db.prepare("PRAGMA quick_check").get() as { quick_check?: string } | undefined;
    if (check?.quick_check !== "ok") {
      throw new Error(`integrity check failed: ${JSON.stringify(check)}`);
    }
  }
  db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;");
  db.exec(META);
  db.exec(kind.schema);
  const { meta, setMeta } = checkIdentity(db, options, kind.schemaVersion);
  const write = kind.prepareWrite(db);
  const purgeBatch: StatementSync = db.prepare(
    `DELETE FROM ${kind.table} WHERE ${kind.keyColumn} IN
       (SELECT ${kind.keyColumn} FROM ${kind.table} WHERE ${kind.timeColumn} < ? LIMIT ?)`,
  );
  const count = () =>
    (db.prepare(`SELECT count(*) AS n FROM ${kind.table}`).get() as { n: number }).n;

  let changelogOffset = Number(meta("changelog_offset") ?? 0);
  let handledUpTo = Number(meta("handled_up_to") ?? -1);
  let entries = checked?.ok ? checked.entries : count();

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

  const base: TaskStore<Row> = {
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
    apply(changes, offset, nowMs) {
      const oldest = nowMs - options.retentionMs;
      let added = 0;
      inTransaction(() => {
        let handled = handledUpTo;
        for (const change of changes) {
          if (change.kind === "progress") {
            handled = Math.max(handled, change.inputOffset);
            continue;
          }
          const input = kind.rowInputOffset(change.row);
          if (input !== undefined) handled = Math.max(handled, input);
          if (kind.rowTime(change.row) >= oldest && write(change.row)) added++;
        }
        const next = Math.max(changelogOffset, offset);
        setMeta.run("changelog_offset", String(next));
        setMeta.run("handled_up_to", String(handled));
        changelogOffset = next;
        handledUpTo = handled;
      });
      entries += added;
    },
    purge(nowMs, maxRows = 10 * PURGE_BATCH) {
      let purged = 0;
      while (purged < maxRows) {
        const limit = Math.min(PURGE_BATCH, maxRows - purged);
        const n = Number(purgeBatch.run(nowMs - options.retentionMs, limit).changes);
        purged += n;
        if (n < limit) break;
      }
      entries -= purged;
      return purged;
    },
    reset() {
      inTransaction(() => {
        db.exec(`DELETE FROM ${kind.table}`);
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
  return kind.build(db, base);
}
