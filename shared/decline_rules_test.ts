import assert from "node:assert/strict";
import { declineRule } from "./decline_rules.ts";

Deno.test("declineRule names the rule of a known reason, and nothing for none or an unknown one", () => {
  assert.match(declineRule("amount_over_limit")!, /CONSUMER_AMOUNT_LIMITS/);
  assert.equal(declineRule(null), null);
  assert.equal(declineRule("a_rule_of_a_newer_consumer"), null);
  assert.equal(declineRule("toString"), null, "only the rules themselves, not Object's members");
});
