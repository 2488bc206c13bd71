import assert from "node:assert/strict";
import type { ChangelogEntry, DecidedPayment } from "./changelog_records.ts";
import { openPartitionStore, type OpenStoreOptions } from "./partition_store.ts";

const DAY = 86_400_000;
const NOW = Date.parse("2026-12-01T12:00:00Z");

function decision(id: string, over: Partial<DecidedPayment> = {}): ChangelogEntry {
  return {
    kind: "decision",
    decision: {
      paymentId: id,
      outcome: "APPROVED",
      customerId: `C-${id}`,
      createdAtMs: NOW - 1000,
      decidedAtMs: NOW,
      inputPartition: 0,
      inputOffset: 0,
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

Deno.test("a new store is empty, remembers applied decisions and survives a reopen", () =>
  withDir((options) => {
    const { store, movedAside } = openPartitionStore(options);
    assert.equal(movedAside, undefined);
    assert.deepEqual(
      [store.changelogOffset, store.handledUpTo, store.entries],
      [0, -1, 0],
    );
    store.apply(
      [
        decision("P-1", { inputOffset: 4 }),
        decision("P-2", { inputOffset: 5 }),
        { kind: "progress", progress: { inputPartition: 0, inputOffset: 7 } },
      ],
      12,
      NOW,
    );
    assert.deepEqual([...store.decided(["P-1", "P-3", "P-2"])].sort(), ["P-1", "P-2"]);
    assert.deepEqual([store.changelogOffset, store.handledUpTo, store.entries], [12, 7, 2]);
    store.close();

    const again = openPartitionStore(options).store;
    assert.deepEqual([again.changelogOffset, again.handledUpTo, again.entries], [12, 7, 2]);
    assert.deepEqual([...again.decided(["P-2"])], ["P-2"]);
    again.close();
  }));

Deno.test("applying the same changelog records twice changes nothing; the checkpoint never moves back", () =>
  withDir((options) => {
    const { store } = openPartitionStore(options);
    const records = [decision("P-1", { inputOffset: 3 }), decision("P-2", { inputOffset: 4 })];
    store.apply(records, 10, NOW);
    store.apply(records, 6, NOW);
    assert.deepEqual([store.changelogOffset, store.handledUpTo, store.entries], [10, 4, 2]);
    store.close();
  }));

Deno.test("lookups of more ids than one statement takes find every decided one", () =>
  withDir((options) => {
    const { store } = openPartitionStore(options);
    const ids = Array.from({ length: 1234 }, (_, i) => `P-${i}`);
    store.apply(ids.filter((_, i) => i % 3 === 0).map((id) => decision(id)), 1, NOW);
    const found = store.decided(ids);
    assert.equal(found.size, 412);
    assert.ok(found.has("P-1233") && !found.has("P-1232"));
    store.close();
  }));

Deno.test("decisions older than the retention are not restored and are purged", () =>
  withDir((options) => {
    const { store } = openPartitionStore(options);
    store.apply(
      [
        decision("OLD", { decidedAtMs: NOW - 8 * DAY }),
        decision("AGING", { decidedAtMs: NOW - 6 * DAY }),
        decision("NEW"),
      ],
      3,
      NOW,
    );
    assert.deepEqual([...store.decided(["OLD", "AGING", "NEW"])].sort(), ["AGING", "NEW"]);
    assert.equal(store.purge(NOW + 2 * DAY), 1);
    assert.deepEqual([...store.decided(["AGING", "NEW"])], ["NEW"]);
    assert.equal(store.entries, 1);
    store.close();
  }));

Deno.test("a payment decided again after its retention ran out is remembered with the newer decision", () =>
  withDir((options) => {
    const { store } = openPartitionStore(options);
    store.apply([decision("P-1", { decidedAtMs: NOW - 6 * DAY, outcome: "DECLINED" })], 1, NOW);
    store.apply([decision("P-1", { decidedAtMs: NOW, inputOffset: 9 })], 2, NOW);
    assert.deepEqual(store.decidedSince(NOW - 1).map((d) => d.paymentId), ["P-1"]);
    assert.equal(store.entries, 1);
    store.close();
  }));

Deno.test("decidedSince returns what the velocity rule needs, oldest first", () =>
  withDir((options) => {
    const { store } = openPartitionStore(options);
    store.apply(
      [
        decision("B", { decidedAtMs: NOW - 10, customerId: "C-1", createdAtMs: NOW - 50 }),
        decision("A", { decidedAtMs: NOW - 20, customerId: "C-1", createdAtMs: NOW - 60 }),
        decision("OLD", { decidedAtMs: NOW - 200_000 }),
      ],
      3,
      NOW,
    );
    assert.deepEqual(store.decidedSince(NOW - 60_000), [
      { paymentId: "A", customerId: "C-1", createdAtMs: NOW - 60 },
      { paymentId: "B", customerId: "C-1", createdAtMs: NOW - 50 },
    ]);
    store.close();
  }));

Deno.test("reset empties the store and its checkpoint", () =>
  withDir((options) => {
    const { store } = openPartitionStore(options);
    store.apply([decision("P-1", { inputOffset: 5 })], 9, NOW);
    store.reset();
    assert.deepEqual([store.changelogOffset, store.handledUpTo, store.entries], [0, -1, 0]);
    assert.equal(store.decided(["P-1"]).size, 0);
    store.close();
  }));

Deno.test("a garbage file is moved aside with the reason and a fresh store takes its place", () =>
  withDir(async (options) => {
    openPartitionStore(options).store.close();
    await Deno.writeTextFile(options.file, "this is not a database ".repeat(500));
    const { store, movedAside } = openPartitionStore(options);
    assert.ok(movedAside, "the unusable file was reported");
    assert.match(movedAside.reason, /not a database/);
    assert.match(movedAside.to, /requests-0\.sqlite\.unusable-/);
    assert.match(await Deno.readTextFile(movedAside.to), /^this is not a database/);
    assert.equal(store.changelogOffset, 0);
    store.apply([decision("P-1")], 1, NOW);
    assert.equal(store.entries, 1);
    store.close();
  }));

Deno.test("a store written for another changelog topic or partition is not reused", () =>
  withDir((options) => {
    const first = openPartitionStore(options).store;
    first.apply([decision("P-1")], 5, NOW);
    first.close();
    const { store, movedAside } = openPartitionStore({ ...options, changelogTopic: "other" });
    assert.match(movedAside?.reason ?? "", /belongs to/);
    assert.equal(store.entries, 0);
    store.close();
  }));
