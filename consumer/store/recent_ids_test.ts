import assert from "node:assert/strict";
import fc from "fast-check";
import { RecentIds } from "./recent_ids.ts";

Deno.test("recent ids are cached per partition", () => {
  const cache = new RecentIds(10);
  cache.add(0, "P-1");
  assert.equal(cache.has(0, "P-1"), true);
  assert.equal(cache.has(1, "P-1"), false);
  cache.drop(0);
  assert.equal(cache.has(0, "P-1"), false);
});

Deno.test("the cache forgets the oldest id once full, never grows past its size and always knows the latest id", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 20 }),
      fc.array(fc.string({ minLength: 1, maxLength: 4 }), { maxLength: 200 }),
      (size, ids) => {
        const cache = new RecentIds(size);
        for (const id of ids) {
          cache.add(0, id);
          assert.ok(cache.has(0, id));
          assert.ok(cache.size(0) <= size);
        }
      },
    ),
  );
});
