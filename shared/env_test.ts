import assert from "node:assert/strict";
import { z } from "zod";
import { ConfigError, loadAll, parseEnv, portVar } from "./env.ts";

Deno.test("loadAll reports the problems of every loader in one error", () => {
  const port = z.object({ PORT: portVar });
  let error: unknown;
  try {
    loadAll(() => parseEnv(port, { PORT: "x" }), () => parseEnv(port, {}));
  } catch (caught) {
    error = caught;
  }
  assert.ok(error instanceof ConfigError);
  assert.equal(error.problems.length, 2);
});

Deno.test("loadAll returns every loader's result in order", () => {
  assert.deepEqual(loadAll(() => 1, () => "two"), [1, "two"]);
});

Deno.test("loadAll lets errors other than ConfigError through", () => {
  assert.throws(() => loadAll(() => JSON.parse("{")), SyntaxError);
});
