import assert from "node:assert/strict";
import { parseTestArguments } from "./test_arguments.ts";

Deno.test("deno test's own options reach it with their values, and chaos/ stays out", () => {
  assert.deepEqual(parseTestArguments(["--no-checks", "--filter", "outage", "producer/"]), {
    help: false,
    noChecks: true,
    denoTest: ["--filter", "outage", "producer/", "--ignore=chaos/"],
  });
  assert.deepEqual(parseTestArguments(["--filter=outage"]).denoTest, [
    "--filter=outage",
    "--ignore=chaos/",
  ]);
  assert.deepEqual(parseTestArguments([]).denoTest, ["--ignore=chaos/"]);
});

Deno.test("a leading -- is allowed, --help is ours, and naming chaos/ runs it", () => {
  assert.deepEqual(parseTestArguments(["--", "--help"]), {
    help: true,
    noChecks: false,
    denoTest: ["--ignore=chaos/"],
  });
  assert.deepEqual(parseTestArguments(["chaos/leader_loss_test.ts"]).denoTest, [
    "chaos/leader_loss_test.ts",
  ]);
  assert.deepEqual(parseTestArguments(["./chaos/"]).denoTest, ["./chaos/"]);
});
