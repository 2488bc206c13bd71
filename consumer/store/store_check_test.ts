import assert from "node:assert/strict";
import { openClaimStore } from "../payments/claim_store.ts";
import { createStoreChecker } from "./store_check.ts";

Deno.test("the store check counts a usable store's rows, passes a missing file and names what is wrong with garbage", async () => {
  const dir = await Deno.makeTempDir({ prefix: "store-check-" });
  const checker = createStoreChecker();
  try {
    const file = `${dir}/requests-0.sqlite`;
    assert.deepEqual(await checker.check(file, "claims"), { ok: true, entries: 0 });
    const { store } = openClaimStore({ file, changelogTopic: "d", partition: 0, retentionMs: 1e9 });
    const now = Date.now();
    store.apply(
      ["A", "B", "C"].map((id, i) => ({
        kind: "row" as const,
        row: {
          paymentId: id,
          customerId: "C",
          createdAtMs: now,
          claimedAtMs: now,
          inputPartition: 0,
          inputOffset: i,
          correlationId: "c",
          duplicates: 0,
        },
      })),
      4,
      now,
    );
    store.close();
    assert.deepEqual(await checker.check(file, "claims"), { ok: true, entries: 3 });
    const garbage = `${dir}/requests-1.sqlite`;
    await Deno.writeTextFile(garbage, "not a database ".repeat(300));
    const verdict = await checker.check(garbage, "claims");
    assert.equal(verdict.ok, false);
    assert.match(!verdict.ok ? verdict.reason : "", /not a database/);
  } finally {
    checker.close();
    await Deno.remove(dir, { recursive: true });
  }
});
