/**
 * Publishing one request's payments: builds the records (value, key, headers),
 * hands them to the publisher as one unit and records metrics and stats.
 *
 * @module
 */
import type { Logger } from "@logtape/logtape";
import { type Entry, OverloadedError } from "./admission.ts";
import { type PaymentRequest, toPaymentEvent } from "@payments/shared/payment";
import { buildRecordHeaders } from "@payments/shared/record_headers";
import type { OutgoingRecord, PaymentPublisher, RecordPosition } from "./publisher.ts";
import { type ProducerMetrics, recordPayments } from "./metrics.ts";
import type { ProducerStats } from "./stats.ts";

/** What ingestion needs. */
export interface IngestDeps {
  publisher: PaymentPublisher;
  metrics: ProducerMetrics;
  stats: ProducerStats;
  logger: Logger;
  source: string;
  sendTimeoutMs: number;
  now?: () => Date;
}

/** One accepted payment and where Kafka stored it. */
export interface AcceptedPayment extends RecordPosition {
  payment_id: string;
  status: "accepted";
}

/** Context of one request. */
export interface IngestContext {
  correlationId: string;
  traceparent: string;
  batch: boolean;
  /** The request's place in the admission queue; without one no budget applies. */
  admission?: Entry;
}

/**
 * Publishes `payments` in one send and resolves with their positions once Kafka
 * acknowledged all of them; rejects with the publisher's error otherwise, or with
 * {@linkcode OverloadedError} before anything is sent when they do not fit the
 * in-flight budget. Admitted payments hold their share of the budget until the
 * publisher lets go of them, which for a send under way can be after the answer.
 */
export async function ingest(
  deps: IngestDeps,
  payments: readonly PaymentRequest[],
  context: IngestContext,
): Promise<{ results: AcceptedPayment[]; processingMs: number }> {
  const started = performance.now();
  const admitted = context.admission?.admit(payments.length);
  if (admitted && !admitted.ok) throw new OverloadedError(admitted.reason, payments.length);
  let records: OutgoingRecord[];
  try {
    records = buildRecords(deps, payments, context);
  } catch (error) {
    admitted?.release();
    throw error;
  }
  const labels = { topic: deps.publisher.topic };
  try {
    const positions = await deps.publisher.publish(records, {
      timeoutMs: deps.sendTimeoutMs,
      ...(admitted ? { onSettled: admitted.release } : {}),
    });
    const elapsed = performance.now() - started;
    deps.metrics.produceDuration.observe({ ...labels, status: "success" }, elapsed / 1000);
    recordPayments(deps.metrics, "success", payments.length);
    deps.stats.recordPublish(payments.length, true, elapsed, context.batch);
    const results = payments.map((payment, index): AcceptedPayment => ({
      payment_id: payment.payment_id,
      status: "accepted",
      ...positions[index]!,
    }));
    for (const result of results) {
      deps.logger.debug("Payment {payment_id} written to partition {partition} at {offset}", {
        ...result,
      });
    }
    return { results, processingMs: elapsed };
  } catch (error) {
    const elapsed = performance.now() - started;
    deps.metrics.produceDuration.observe({ ...labels, status: "failed" }, elapsed / 1000);
    recordPayments(deps.metrics, "failed", payments.length);
    deps.stats.recordPublish(payments.length, false, elapsed, context.batch);
    throw error;
  }
}

function buildRecords(
  deps: IngestDeps,
  payments: readonly PaymentRequest[],
  context: IngestContext,
): OutgoingRecord[] {
  const now = deps.now?.() ?? new Date();
  const headers = buildRecordHeaders({
    correlationId: context.correlationId,
    source: deps.source,
    traceparent: context.traceparent,
  });
  return payments.map((payment) => ({
    key: payment.payment_id,
    value: JSON.stringify(
      toPaymentEvent(payment, { correlationId: context.correlationId, source: deps.source, now }),
    ),
    headers,
  }));
}
