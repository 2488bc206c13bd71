import assert from "node:assert/strict";
import { z } from "zod";
import { ConfigError, durationVar, loadAll, parseEnv, portVar } from "./env.ts";

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

Deno.test("durations are read in days, hours, minutes, seconds or milliseconds; a bare number is refused", () => {
  const schema = z.object({ KEEP: durationVar });
  const parse = (value: string) => parseEnv(schema, { KEEP: value }).KEEP;
  assert.equal(parse("7d"), 7 * 86_400_000);
  assert.equal(parse("24h"), 86_400_000);
  assert.equal(parse("30m"), 1_800_000);
  assert.equal(parse("90s"), 90_000);
  assert.equal(parse("1.5h"), 5_400_000);
  assert.equal(parse("500ms"), 500);
  for (const bad of ["7", "0d", "-1h", "7 days", "1w", "h"]) {
    assert.throws(() => parse(bad), /KEEP: .* is not a duration such as 7d/, bad);
  }
});
