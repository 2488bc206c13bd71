import assert from "node:assert/strict";
import { eventually, waitFor, withTimeout } from "./wait.ts";

Deno.test("withTimeout rejects with what timed out and clears its timer", async () => {
  await assert.rejects(
    withTimeout(new Promise(() => {}), 10, "waiting for nothing"),
    /waiting for nothing timed out after 10 ms/,
  );
  assert.equal(await withTimeout(Promise.resolve(7), 1000, "fast"), 7);
});

Deno.test("eventually resolves once the predicate holds, and fails naming what and its context", async () => {
  let calls = 0;
  await eventually(() => ++calls >= 3, 5_000, "three calls", { intervalMs: 1 });
  assert.equal(calls, 3);
  await assert.rejects(
    eventually(() => false, 20, "the impossible", { intervalMs: 5, context: () => "last: 41" }),
    (error: Error) => {
      assert.equal(error.name, "AssertionError");
      assert.match(error.message, /^the impossible: not reached within 20 ms\nlast: 41$/);
      return true;
    },
  );
});

Deno.test("waitFor names the conditions that never held", async () => {
  await assert.rejects(
    waitFor(
      { "always": () => Promise.resolve(true), "never": () => Promise.resolve(false) },
      10,
      () => "log tail",
    ),
    /not met: never\nlog tail/,
  );
});
