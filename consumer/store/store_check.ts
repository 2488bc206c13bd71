/**
 * Checks store files off the event loop: SQLite's `quick_check` and a row count read
 * the whole file (about 100 ms for half a million claims on this machine's disk), so
 * they run in a worker thread while the consumer keeps heartbeating and processing
 * its other partitions. The store is then opened without repeating them.
 *
 * @module
 */
import type { StoreCheckAnswer, StoreCheckRequest } from "./store_check_worker.ts";

/** What a check found: a usable file and its rows, no file yet, or why it cannot be used. */
export type StoreCheck =
  | { ok: true; entries: number }
  | { ok: false; reason: string };

/** Checks store files in a worker thread. */
export interface StoreChecker {
  /** Checks `file` (its rows counted in `table`); a missing file is a usable, empty store. */
  check(file: string, table: string): Promise<StoreCheck>;
  /** Ends the worker thread. */
  close(): void;
}

/** Creates a checker; its worker thread starts with the first check. */
export function createStoreChecker(): StoreChecker {
  let worker: Worker | undefined;
  let nextId = 0;
  const waiting = new Map<number, (answer: StoreCheck) => void>();

  function start(): Worker {
    const w = new Worker(new URL("./store_check_worker.ts", import.meta.url), { type: "module" });
    w.onmessage = (event: MessageEvent<StoreCheckAnswer>) => {
      const { id, ...answer } = event.data;
      waiting.get(id)?.(answer as StoreCheck);
      waiting.delete(id);
    };
    w.onerror = (event) => {
      event.preventDefault();
      for (const resolve of waiting.values()) {
        resolve({ ok: false, reason: `the store check failed: ${event.message}` });
      }
      waiting.clear();
      worker = undefined;
    };
    return w;
  }

  return {
    async check(file, table) {
      try {
        await Deno.stat(file);
      } catch (error) {
        if (error instanceof Deno.errors.NotFound) return { ok: true, entries: 0 };
        throw error;
      }
      worker ??= start();
      const id = nextId++;
      const request: StoreCheckRequest = { id, file, table };
      return await new Promise<StoreCheck>((resolve) => {
        waiting.set(id, resolve);
        worker!.postMessage(request);
      });
    },
    close() {
      worker?.terminate();
      worker = undefined;
      for (const resolve of waiting.values()) resolve({ ok: false, reason: "checker closed" });
      waiting.clear();
    },
  };
}
