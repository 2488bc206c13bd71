import assert from "node:assert/strict";
import fc from "fast-check";
import type { Claim } from "./claim_records.ts";
import { RecentClaims } from "./recent_claims.ts";

const claim = (paymentId: string, duplicates = 0): Claim => ({
  paymentId,
  customerId: "C-1",
  createdAtMs: 0,
  claimedAtMs: 0,
  inputPartition: 0,
  inputOffset: 0,
  correlationId: "c",
  duplicates,
});

Deno.test("recent claims are cached per partition and a refreshed claim replaces the old one", () => {
  const cache = new RecentClaims(10);
  cache.set(0, claim("P-1"));
  assert.equal(cache.get(0, "P-1")?.duplicates, 0);
  assert.equal(cache.get(1, "P-1"), undefined);
  cache.set(0, claim("P-1", 2));
  assert.equal(cache.get(0, "P-1")?.duplicates, 2);
  assert.equal(cache.size(0), 1);
  cache.drop(0);
  assert.equal(cache.get(0, "P-1"), undefined);
});

Deno.test("the cache forgets the least recently touched claim once full, never grows past its size and always knows the latest", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 20 }),
      fc.array(fc.string({ minLength: 1, maxLength: 4 }), { maxLength: 200 }),
      (size, ids) => {
        const cache = new RecentClaims(size);
        for (const id of ids) {
          cache.set(0, claim(id));
          assert.ok(cache.get(0, id));
          assert.ok(cache.size(0) <= size);
        }
      },
    ),
  );
});

Deno.test("touching a claim again keeps it over claims set after it", () => {
  const cache = new RecentClaims(2);
  cache.set(0, claim("A"));
  cache.set(0, claim("B"));
  cache.set(0, claim("A", 1));
  cache.set(0, claim("C"));
  assert.ok(cache.get(0, "A"));
  assert.equal(cache.get(0, "B"), undefined);
});
