import assert from "node:assert/strict";
import { getLogger } from "@logtape/logtape";
import { createRegistry } from "@payments/shared/metrics";
import { PROBE_ID_PREFIX } from "@payments/shared/probe";
import { pipelineTracer } from "@payments/shared/tracing";
import type { PaymentEvent } from "@payments/shared/payment";
import type { Answer } from "../answer.ts";
import type { Decision } from "../customers/decision_records.ts";
import { createConsumerMetrics } from "../metrics.ts";
import { createCommitReporter } from "./commit_report.ts";

const event = (paymentId: string): PaymentEvent => ({
  payment_id: paymentId,
  amount: 10,
  merchant_id: "M-1",
  customer_id: `C-${paymentId}`,
  currency: "USD",
  status: "PENDING",
  created_at: new Date(Date.now() - 100).toISOString(),
  correlation_id: "c",
  source: "test",
});

const trace = { correlation_id: "c" };
const span = pipelineTracer().startSpan("process payment_requests");

function decided(paymentId: string): Answer {
  return {
    kind: "decided",
    outcome: "APPROVED",
    offset: 1,
    event: event(paymentId),
    decision: { paymentId } as Decision,
    trace,
    span,
    processingSeconds: 0.001,
    log: {},
  };
}

function deadLetter(paymentId: string): Answer {
  return {
    kind: "dead_letter",
    reason: "processing_failed",
    offset: 2,
    event: event(paymentId),
    naiveCreatedAt: false,
    trace,
    span,
    processingSeconds: 0.001,
    log: {},
  };
}

async function value(registry: ReturnType<typeof createRegistry>, pattern: RegExp) {
  const line = (await registry.metrics()).split("\n").find((l) => pattern.test(l));
  assert.ok(line, `a series matching ${pattern}`);
  return Number(line.split(" ").at(-1));
}

Deno.test("the producer's probe payments are left out of the consumer's business metrics, client payments are counted", async () => {
  const registry = createRegistry("payment-consumer", { defaults: false });
  const metrics = createConsumerMetrics(registry, "payment_requests");
  const report = createCommitReporter({
    metrics,
    logger: getLogger(["test"]),
    topic: "payment_requests",
  });
  const probe = `${PROBE_ID_PREFIX}${crypto.randomUUID()}`;
  report.committed({
    id: { kind: "customers", partition: 0 },
    answers: [decided(probe), decided("P-1")],
    seconds: 0.01,
    committedAtMs: Date.now(),
    storeEntries: 2,
  });
  report.committed({
    id: { kind: "payments", partition: 0 },
    answers: [deadLetter(probe), deadLetter("P-2")],
    seconds: 0.01,
    committedAtMs: Date.now(),
    storeEntries: 0,
  });
  assert.equal(await value(registry, /^payment_results_total\{outcome="APPROVED"/), 1);
  assert.equal(await value(registry, /^end_to_end_latency_seconds_count\{/), 1);
  assert.equal(await value(registry, /^dead_letter_messages_total\{reason="processing_failed"/), 1);
  assert.equal(await value(registry, /^messages_consumed_total\{[^}]*status="failed"/), 1);
  assert.equal(await value(registry, /^consumer_transaction_records_count\{/), 2);
});
