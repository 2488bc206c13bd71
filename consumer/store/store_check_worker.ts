/**
 * The worker thread of `store_check.ts`: checks one store file at a time with SQLite's
 * `quick_check` and counts its rows, both proportional to the file's size, so that a
 * large store never blocks the consumer's event loop while it is opened.
 *
 * @module
 */
import { DatabaseSync } from "node:sqlite";

/** A request: the file and the table whose rows to count. */
export interface StoreCheckRequest {
  id: number;
  file: string;
  table: string;
}

/** The answer: usable with its row count, or why not. */
export type StoreCheckAnswer =
  | { id: number; ok: true; entries: number }
  | { id: number; ok: false; reason: string };

function check({ id, file, table }: StoreCheckRequest): StoreCheckAnswer {
  let db: DatabaseSync | undefined;
  try {
    db = new DatabaseSync(file, { readOnly: true });
    const result = db.prepare("PRAGMA quick_check").get() as { quick_check?: string } | undefined;
    if (result?.quick_check !== "ok") {
      return { id, ok: false, reason: `integrity check failed: ${JSON.stringify(result)}` };
    }
    const exists = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?")
      .get(table);
    const entries = exists
      ? (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n
      : 0;
    return { id, ok: true, entries };
  } catch (error) {
    return { id, ok: false, reason: (error as Error).message };
  } finally {
    db?.close();
  }
}

// The worker's global scope (typed here rather than with the worker lib, which would
// change the globals of every module type-checked with this one).
const scope = self as unknown as {
  onmessage: (event: MessageEvent<StoreCheckRequest>) => void;
  postMessage: (answer: StoreCheckAnswer) => void;
};
scope.onmessage = (event) => scope.postMessage(check(event.data));
