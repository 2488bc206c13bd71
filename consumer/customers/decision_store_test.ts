import assert from "node:assert/strict";
import type { ChangelogEntry, OpenStoreOptions } from "../store/sqlite_store.ts";
import type { Decision } from "./decision_records.ts";
import { openDecisionStore } from "./decision_store.ts";

const DAY = 86_400_000;
const NOW = Date.parse("2026-12-01T12:00:00Z");

function decided(
  id: string,
  over: Partial<Decision> = {},
): Extract<ChangelogEntry<Decision>, { kind: "row" }> {
  return {
    kind: "row",
    row: {
      paymentId: id,
      outcome: "APPROVED",
      reason: null,
      customerId: "C-1",
      createdAtMs: NOW - 1000,
      decidedAtMs: NOW,
      inputPartition: 2,
      inputOffset: 7,
      forwardPartition: 0,
      forwardOffset: 0,
      correlationId: `corr-${id}`,
      ...over,
    },
  };
}

async function withStore(fn: (options: OpenStoreOptions) => void | Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "decision-store-test-" });
  try {
    await fn({
      file: `${dir}/group/by_customer-0.sqlite`,
      changelogTopic: "decisions.by_customer",
      partition: 0,
      retentionMs: 7 * DAY,
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("a decision store counts a customer's payments created within a range, by created_at, exclusive, up to a cap", () =>
  withStore((options) => {
    const { store } = openDecisionStore(options);
    store.apply(
      [
        decided("A", { createdAtMs: 1_000 }),
        decided("B", { createdAtMs: 60_000 }),
        decided("C", { createdAtMs: 120_000 }),
        decided("OTHER", { customerId: "C-2", createdAtMs: 60_000 }),
      ],
      4,
      NOW,
    );
    assert.equal(store.countBetween("C-1", 1_000, 120_000, 10), 1);
    assert.equal(store.countBetween("C-1", 999, 120_001, 10), 3);
    assert.equal(store.countBetween("C-1", 999, 120_001, 2), 2, "the count stops at the cap");
    assert.equal(store.countBetween("C-2", 0, NOW, 10), 1);
    assert.equal(store.countBetween("C-3", 0, NOW, 10), 0);
    store.close();
  }));

Deno.test("a decision store moves handledUpTo with the forward offsets and returns one payment's decision", () =>
  withStore((options) => {
    const { store } = openDecisionStore(options);
    store.apply(
      [decided("A", { forwardOffset: 3, outcome: "DECLINED", reason: "amount_over_limit" })],
      2,
      NOW,
    );
    assert.equal(store.handledUpTo, 3);
    assert.deepEqual(
      store.decision("A"),
      decided("A", { forwardOffset: 3, outcome: "DECLINED", reason: "amount_over_limit" }).row,
    );
    assert.equal(store.decision("B"), undefined);
    store.close();
    const again = openDecisionStore(options).store;
    assert.equal(again.decision("A")?.reason, "amount_over_limit");
    again.close();
  }));

Deno.test("decisions past the retention are purged", () =>
  withStore((options) => {
    const { store } = openDecisionStore(options);
    store.apply([decided("OLD", { decidedAtMs: NOW - 6 * DAY }), decided("NEW")], 2, NOW);
    assert.equal(store.purge(NOW + 2 * DAY), 1);
    assert.equal(store.entries, 1);
    assert.equal(store.decision("OLD"), undefined);
    store.close();
  }));
