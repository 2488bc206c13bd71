import assert from "node:assert/strict";
import { expectedOutcome, PEER_RULES, type PeerRules, peerRulesArgs } from "./peer_rules.ts";

const rules: PeerRules = {
  blockedMerchants: ["m-bad"],
  defaultAmountLimit: 5000,
  amountLimits: { EUR: 100 },
};
const payment = (merchant: string, amount: number, currency: string) =>
  JSON.stringify({ merchant_id: merchant, amount, currency });

Deno.test("a blocked merchant is declined whatever the amount", () => {
  assert.equal(expectedOutcome(payment("m-bad", 1, "USD"), rules), "DECLINED");
});

Deno.test("the amount limit of the currency applies, else the default, and only above it", () => {
  assert.equal(expectedOutcome(payment("m", 100, "EUR"), rules), "APPROVED");
  assert.equal(expectedOutcome(payment("m", 100.01, "EUR"), rules), "DECLINED");
  assert.equal(expectedOutcome(payment("m", 5000, "USD"), rules), "APPROVED");
  assert.equal(expectedOutcome(payment("m", 5000.01, "USD"), rules), "DECLINED");
});

Deno.test("a value that is not a payment is unreadable", () => {
  assert.equal(expectedOutcome("nope", rules), "unreadable");
  assert.equal(expectedOutcome('{"amount":"5","currency":"USD"}', rules), "unreadable");
});

Deno.test("the rules become the peer's key=value arguments", () => {
  assert.deepEqual(peerRulesArgs(rules), ["blocked=m-bad", "default-limit=5000", "limits=EUR:100"]);
  assert.deepEqual(
    peerRulesArgs({ blockedMerchants: [], defaultAmountLimit: 1, amountLimits: {} }),
    [
      "blocked=",
      "default-limit=1",
      "limits=",
    ],
  );
});

Deno.test("the bench's rules block one merchant and lower one currency's limit", () => {
  assert.equal(PEER_RULES.blockedMerchants.length, 1);
  assert.ok(Object.values(PEER_RULES.amountLimits).every((l) => l < PEER_RULES.defaultAmountLimit));
});
