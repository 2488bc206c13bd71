import assert from "node:assert/strict";
import { envPairs } from "./bench_support.ts";

Deno.test("--producer-env/--consumer-env pairs become an environment; a bad pair names its option", () => {
  assert.deepEqual(envPairs(["A=1", "B=x=y"], "--consumer-env"), { A: "1", B: "x=y" });
  assert.deepEqual(envPairs([], "--consumer-env"), {});
  assert.throws(
    () => envPairs(["=1"], "--producer-env"),
    /--producer-env takes KEY=VALUE \(got "=1"\)/,
  );
  assert.throws(() => envPairs(["NOVALUE"], "--consumer-env"), /--consumer-env/);
});
