/**
 * The status route names the rule behind a decline from `@payments/shared/decline_rules`;
 * the consumer's rules must each be there, and nothing else.
 */
import assert from "node:assert/strict";
import { DECLINE_RULES } from "@payments/shared/decline_rules";
import { REASON } from "./processor.ts";

Deno.test("every reason the consumer declines a payment for has its rule in @payments/shared/decline_rules", () => {
  const declines = Object.values(REASON).filter((reason) => reason !== REASON.duplicate);
  assert.deepEqual([...declines].sort(), Object.keys(DECLINE_RULES).sort());
});
