import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import type { ChangelogEntry, OpenStoreOptions } from "../store/sqlite_store.ts";
import type { Claim } from "./claim_records.ts";
import { openClaimStore } from "./claim_store.ts";

const DAY = 86_400_000;
const NOW = Date.parse("2026-12-01T12:00:00Z");

function claimed(
  id: string,
  over: Partial<Claim> = {},
): Extract<ChangelogEntry<Claim>, { kind: "row" }> {
  return {
    kind: "row",
    row: {
      paymentId: id,
      customerId: `C-${id}`,
      createdAtMs: NOW - 1000,
      claimedAtMs: NOW,
      inputPartition: 0,
      inputOffset: 0,
      correlationId: `corr-${id}`,
      duplicates: 0,
      ...over,
    },
  };
}

async function withDir(fn: (options: OpenStoreOptions) => void | Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "store-test-" });
  try {
    await fn({
      file: `${dir}/group/requests-0.sqlite`,
      changelogTopic: "decisions",
      partition: 0,
      retentionMs: 7 * DAY,
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("a new store is empty, remembers applied claims and survives a reopen", () =>
  withDir((options) => {
    const { store, movedAside } = openClaimStore(options);
    assert.equal(movedAside, undefined);
    assert.deepEqual([store.changelogOffset, store.handledUpTo, store.entries], [0, -1, 0]);
    store.apply(
      [
        claimed("P-1", { inputOffset: 4 }),
        claimed("P-2", { inputOffset: 5 }),
        { kind: "progress", inputOffset: 7 },
      ],
      12,
      NOW,
    );
    assert.deepEqual([...store.claimed(["P-1", "P-3", "P-2"]).keys()].sort(), ["P-1", "P-2"]);
    assert.deepEqual([store.changelogOffset, store.handledUpTo, store.entries], [12, 7, 2]);
    store.close();

    const again = openClaimStore(options).store;
    assert.deepEqual([again.changelogOffset, again.handledUpTo, again.entries], [12, 7, 2]);
    assert.deepEqual(again.claimed(["P-2"]).get("P-2"), claimed("P-2", { inputOffset: 5 }).row);
    again.close();
  }));

Deno.test("applying the same changelog records twice changes nothing; the checkpoint never moves back", () =>
  withDir((options) => {
    const { store } = openClaimStore(options);
    const records = [claimed("P-1", { inputOffset: 3 }), claimed("P-2", { inputOffset: 4 })];
    store.apply(records, 10, NOW);
    store.apply(records, 6, NOW);
    assert.deepEqual([store.changelogOffset, store.handledUpTo, store.entries], [10, 4, 2]);
    store.close();
  }));

Deno.test("the newest record of a payment id wins: a repeat's count replaces the claim's", () =>
  withDir((options) => {
    const { store } = openClaimStore(options);
    store.apply([claimed("P-1"), claimed("P-1", { duplicates: 1 })], 2, NOW);
    store.apply([claimed("P-1", { duplicates: 2 })], 3, NOW);
    assert.equal(store.claimed(["P-1"]).get("P-1")?.duplicates, 2);
    assert.equal(store.entries, 1);
    store.close();
  }));

Deno.test("lookups of more ids than one statement takes find every claimed one", () =>
  withDir((options) => {
    const { store } = openClaimStore(options);
    const ids = Array.from({ length: 1234 }, (_, i) => `P-${i}`);
    store.apply(ids.filter((_, i) => i % 3 === 0).map((id) => claimed(id)), 1, NOW);
    const found = store.claimed(ids);
    assert.equal(found.size, 412);
    assert.ok(found.has("P-1233") && !found.has("P-1232"));
    store.close();
  }));

Deno.test("claims older than the retention are not restored and are purged, in slices", () =>
  withDir((options) => {
    const { store } = openClaimStore(options);
    store.apply(
      [
        claimed("OLD", { claimedAtMs: NOW - 8 * DAY }),
        claimed("AGING", { claimedAtMs: NOW - 6 * DAY }),
        claimed("AGING-2", { claimedAtMs: NOW - 6 * DAY }),
        claimed("NEW"),
      ],
      3,
      NOW,
    );
    assert.deepEqual([...store.claimed(["OLD", "AGING", "NEW"]).keys()].sort(), ["AGING", "NEW"]);
    assert.equal(store.purge(NOW + 2 * DAY, 1), 1, "one slice of at most one row");
    assert.equal(store.purge(NOW + 2 * DAY), 1);
    assert.deepEqual([...store.claimed(["AGING", "AGING-2", "NEW"]).keys()], ["NEW"]);
    assert.equal(store.entries, 1);
    store.close();
  }));

Deno.test("a decision of the single-stage consumer is kept as a claim with its outcome", () =>
  withDir((options) => {
    const { store } = openClaimStore(options);
    store.apply([claimed("P-1", { legacyOutcome: "DECLINED" })], 1, NOW);
    assert.equal(store.claimed(["P-1"]).get("P-1")?.legacyOutcome, "DECLINED");
    store.close();
  }));

Deno.test("reset empties the store and its checkpoint", () =>
  withDir((options) => {
    const { store } = openClaimStore(options);
    store.apply([claimed("P-1", { inputOffset: 5 })], 9, NOW);
    store.reset();
    assert.deepEqual([store.changelogOffset, store.handledUpTo, store.entries], [0, -1, 0]);
    assert.equal(store.claimed(["P-1"]).size, 0);
    store.close();
  }));

Deno.test("a garbage file is moved aside with the reason and a fresh store takes its place", () =>
  withDir(async (options) => {
    openClaimStore(options).store.close();
    await Deno.writeTextFile(options.file, "this is not a database ".repeat(500));
    const { store, movedAside } = openClaimStore(options);
    assert.ok(movedAside, "the unusable file was reported");
    assert.match(movedAside.reason, /not a database/);
    assert.match(movedAside.to, /requests-0\.sqlite\.unusable-/);
    assert.match(await Deno.readTextFile(movedAside.to), /^this is not a database/);
    assert.equal(store.changelogOffset, 0);
    store.apply([claimed("P-1")], 1, NOW);
    assert.equal(store.entries, 1);
    store.close();
  }));

Deno.test("a store written for another changelog topic or partition is not reused", () =>
  withDir((options) => {
    const first = openClaimStore(options).store;
    first.apply([claimed("P-1")], 5, NOW);
    first.close();
    const { store, movedAside } = openClaimStore({ ...options, changelogTopic: "other" });
    assert.match(movedAside?.reason ?? "", /belongs to/);
    assert.equal(store.entries, 0);
    store.close();
  }));

Deno.test("a store of the single-stage consumer (schema 1) is moved aside, to be rebuilt from the changelog", () =>
  withDir((options) => {
    Deno.mkdirSync(options.file.slice(0, options.file.lastIndexOf("/")), { recursive: true });
    const db = new DatabaseSync(options.file);
    db.exec(`CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
      INSERT INTO meta VALUES ('schema_version', '1');`);
    db.close();
    const { store, movedAside } = openClaimStore(options);
    assert.match(movedAside?.reason ?? "", /schema version 1, this consumer writes 2/);
    assert.equal(store.entries, 0);
    store.close();
  }));
