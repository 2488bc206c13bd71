/**
 * Publishing one request's payments: builds the records (value, key, headers),
 * hands them to the publisher as one unit and records metrics and stats, all inside the
 * request's `send payment_requests` span (`send_spans.ts`), whose context every record
 * carries as its `traceparent`. A failure Kafka reports comes back as a value for the
 * route to answer, never as a throw.
 *
 * @module
 */
import { context, trace, type Tracer } from "@opentelemetry/api";
import type { Logger } from "@logtape/logtape";
import { type PaymentRequest, toPaymentEvent } from "@payments/shared/payment";
import { buildRecordHeaders } from "@payments/shared/record_headers";
import { injectTraceHeaders } from "@payments/shared/trace_context";
import { pipelineTracer } from "@payments/shared/tracing";
import {
  type OutgoingRecord,
  type PaymentPublisher,
  PublishError,
  type RecordPosition,
} from "./publisher.ts";
import { type ProducerMetrics, recordPayments } from "./metrics.ts";
import type { ProducerStats } from "./stats.ts";
import { endRequestSend, startRequestSend } from "./send_spans.ts";

/** What ingestion needs. */
export interface IngestDeps {
  publisher: PaymentPublisher;
  metrics: ProducerMetrics;
  stats: ProducerStats;
  logger: Logger;
  source: string;
  sendTimeoutMs: number;
  now?: () => Date;
  /** Default: the services' tracer (`@payments/shared/tracing`). */
  tracer?: Tracer;
}

/** One accepted payment: where Kafka stored it, and the amount and currency as stored. */
export interface AcceptedPayment extends RecordPosition {
  payment_id: string;
  status: "accepted";
  amount: number;
  currency: string;
}

/** Context of one request. */
export interface IngestContext {
  correlationId: string;
  batch: boolean;
  /** The producer's own probe sent it: left out of the metrics and stats (it counts itself). */
  probe?: boolean;
  /**
   * Called once the publisher no longer holds the payments (admission's `release`): it
   * can come after the answer, for a send still under way when its timeout ran out.
   */
  onSettled: () => void;
}

/** How publishing one request's payments ended. */
export type Ingested =
  | { ok: true; results: AcceptedPayment[]; processingMs: number }
  | { ok: false; error: PublishError };

/**
 * Publishes `payments` in one send and resolves with their positions once Kafka
 * acknowledged all of them, or with the publisher's {@linkcode PublishError}.
 */
export async function ingest(
  deps: IngestDeps,
  payments: readonly PaymentRequest[],
  request: IngestContext,
): Promise<Ingested> {
  const span = startRequestSend(deps.tracer ?? pipelineTracer(), {
    topic: deps.publisher.topic,
    paymentIds: payments.map((payment) => payment.payment_id),
    batch: request.batch,
    correlationId: request.correlationId,
    probe: request.probe === true,
  });
  let ingested: Ingested | undefined;
  try {
    ingested = await context.with(
      trace.setSpan(context.active(), span),
      () => publish(deps, payments, request),
    );
    return ingested;
  } finally {
    endRequestSend(
      span,
      ingested === undefined
        ? { error: new Error("the request's send threw") }
        : ingested.ok
        ? { positions: ingested.results }
        : { error: ingested.error },
    );
  }
}

/** {@linkcode ingest} inside the request's send span. */
async function publish(
  deps: IngestDeps,
  payments: readonly PaymentRequest[],
  request: IngestContext,
): Promise<Ingested> {
  const started = performance.now();
  let records: OutgoingRecord[];
  try {
    records = buildRecords(deps, payments, request);
  } catch (error) {
    request.onSettled();
    throw error;
  }
  const labels = { topic: deps.publisher.topic };
  try {
    const positions = await deps.publisher.publish(records, {
      timeoutMs: deps.sendTimeoutMs,
      onSettled: request.onSettled,
      trace: context.active(),
    });
    const elapsed = performance.now() - started;
    if (!request.probe) {
      deps.metrics.produceDuration.observe({ ...labels, status: "success" }, elapsed / 1000);
      recordPayments(deps.metrics, "success", payments.length);
      deps.stats.recordPublish(payments.length, true, elapsed, request.batch);
    }
    const results = payments.map((payment, index): AcceptedPayment => ({
      payment_id: payment.payment_id,
      status: "accepted",
      amount: payment.amount,
      currency: payment.currency,
      ...positions[index]!,
    }));
    for (const result of results) {
      deps.logger.debug("Payment {payment_id} written to partition {partition} at {offset}", {
        ...result,
      });
    }
    return { ok: true, results, processingMs: elapsed };
  } catch (error) {
    const elapsed = performance.now() - started;
    if (!request.probe) {
      deps.metrics.produceDuration.observe({ ...labels, status: "failed" }, elapsed / 1000);
      recordPayments(deps.metrics, "failed", payments.length);
      deps.stats.recordPublish(payments.length, false, elapsed, request.batch);
    }
    // Anything else is a bug, for the app's onError.
    if (!(error instanceof PublishError)) throw error;
    return { ok: false, error };
  }
}

/** The request's records; their headers carry the context of the send span active here. */
function buildRecords(
  deps: IngestDeps,
  payments: readonly PaymentRequest[],
  request: IngestContext,
): OutgoingRecord[] {
  const now = deps.now?.() ?? new Date();
  const headers = injectTraceHeaders(buildRecordHeaders({
    correlationId: request.correlationId,
    source: deps.source,
  }));
  return payments.map((payment) => ({
    key: payment.payment_id,
    value: JSON.stringify(
      toPaymentEvent(payment, { correlationId: request.correlationId, source: deps.source, now }),
    ),
    headers,
  }));
}
