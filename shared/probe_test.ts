import assert from "node:assert/strict";
import { PaymentIdSchema } from "./payment.ts";
import { isProbePaymentId, PROBE_ID_PREFIX, PROBE_MERCHANT_ID } from "./probe.ts";

Deno.test("a probe payment id is the prefix and a UUID, a valid payment id that no client may send", () => {
  const id = `${PROBE_ID_PREFIX}${crypto.randomUUID()}`;
  assert.ok(PaymentIdSchema.safeParse(id).success, "it travels like any payment id");
  assert.ok(PaymentIdSchema.safeParse(PROBE_MERCHANT_ID).success);
  assert.ok(isProbePaymentId(id));
  assert.ok(!isProbePaymentId("TEST-001"));
  assert.ok(!isProbePaymentId(`x${id}`), "only as a prefix");
});
