/**
 * The handlers of `POST /payments`, `POST /payments/single` (the lab's alias) and
 * `POST /payments/batch` (declared in `declarations.ts`). They run once the body is
 * valid and its payments admitted (`middleware/admission.ts`): publish in one send,
 * answer 202 only once Kafka acknowledged every payment, 503 when it did not.
 *
 * @module
 */
import type { Context } from "hono";
import { type Logger, withContext } from "@logtape/logtape";
import type { BatchPaymentRequest, PaymentRequest } from "@payments/shared/payment";
import { problemFor, type ProducerEnv } from "../context.ts";
import { type AcceptedPayment, ingest, type IngestDeps } from "../ingest.ts";
import type { AdmittedHandler } from "../middleware/admission.ts";
import type { PublishError } from "../publisher.ts";
import { statusUrl } from "./payment_status.ts";

/** What the payment handlers need. */
export interface PaymentHandlersDeps extends IngestDeps {
  logger: Logger;
  retryAfterSeconds: number;
}

/** The handler of each payment route. */
export interface PaymentHandlers {
  /** `POST /payments` and `POST /payments/single`. */
  single: AdmittedHandler<PaymentRequest>;
  batch: AdmittedHandler<BatchPaymentRequest>;
}

/** Builds the payment handlers. */
export function paymentHandlers(deps: PaymentHandlersDeps): PaymentHandlers {
  const single: PaymentHandlers["single"] = {
    payments: () => 1,
    async handle(c, payment, admitted) {
      const correlationId = c.get("correlationId");
      const published = await ingest(deps, [payment], {
        correlationId,
        batch: false,
        probe: c.get("probe") === true,
        onSettled: admitted.release,
      });
      if (!published.ok) {
        deps.logger.warn("Payment {payment_id} not accepted: {error}", {
          payment_id: payment.payment_id,
          error: published.error.message,
        });
        return unavailable(c, published.error, deps.retryAfterSeconds);
      }
      const body = {
        ...withStatusUrl(published.results[0]!),
        correlation_id: correlationId,
        topic: deps.publisher.topic,
        processing_time_ms: round(published.processingMs),
      };
      const line = "Payment {payment_id} accepted in {processing_time_ms} ms";
      const fields = {
        payment_id: body.payment_id,
        total_payments: 1,
        partition: body.partition,
        offset: body.offset,
        processing_time_ms: body.processing_time_ms,
      };
      // The probe's own payment every few seconds is no news (its failures are).
      if (c.get("probe")) deps.logger.debug(line, fields);
      else deps.logger.info(line, fields);
      c.header("location", body.status_url);
      return c.json(body, 202);
    },
  };

  const batch: PaymentHandlers["batch"] = {
    payments: (body) => body.payments.length,
    handle(c, body, admitted) {
      if (body.correlation_id) c.set("correlationId", body.correlation_id);
      const correlationId = c.get("correlationId");
      const batchId = crypto.randomUUID();
      return withContext({ correlation_id: correlationId, batch_id: batchId }, async () => {
        const published = await ingest(deps, body.payments, {
          correlationId,
          batch: true,
          probe: c.get("probe") === true,
          onSettled: admitted.release,
        });
        if (!published.ok) {
          deps.logger.warn("Batch {batch_id} of {total_payments} payments not accepted: {error}", {
            total_payments: body.payments.length,
            error: published.error.message,
          });
          return unavailable(c, published.error, deps.retryAfterSeconds);
        }
        const results = published.results.map(withStatusUrl);
        const answer = {
          batch_id: batchId,
          correlation_id: correlationId,
          status: "accepted" as const,
          topic: deps.publisher.topic,
          total_payments: results.length,
          successful: results.length,
          failed: 0,
          results,
          processing_time_ms: round(published.processingMs),
        };
        deps.logger.info(
          "Batch {batch_id} of {total_payments} payments accepted in {processing_time_ms} ms",
          {
            total_payments: answer.total_payments,
            payment_ids: listIds(body.payments),
            processing_time_ms: answer.processing_time_ms,
          },
        );
        return c.json(answer, 202);
      });
    },
  };

  return { single, batch };
}

/** An accepted payment with the URL of its status (`GET /payments/{payment_id}`). */
function withStatusUrl(accepted: AcceptedPayment) {
  return { ...accepted, status_url: statusUrl(accepted.payment_id) };
}

/** 503 for a send Kafka did not acknowledge; says whether anything may have been written. */
function unavailable(c: Context<ProducerEnv>, error: PublishError, retryAfter: number): Response {
  const written = error.mayHaveWritten
    ? "Kafka may have written some of these payments all the same; resending them with the " +
      "same payment_id is safe (a repeat is answered DUPLICATE)."
    : "Nothing of this request was written.";
  return problemFor(c, {
    status: 503,
    kind: "kafka-unavailable",
    detail: `${error.message}. ${written}`,
    headers: error.retriable ? { "retry-after": String(retryAfter) } : {},
  });
}

/** Most payment ids one batch's log line names. */
const MAX_LOGGED_IDS = 10;

/** The batch's payment ids for its log line: the first few, then how many more. */
function listIds(payments: readonly PaymentRequest[]): string {
  const ids = payments.slice(0, MAX_LOGGED_IDS).map((payment) => payment.payment_id).join(",");
  const more = payments.length - MAX_LOGGED_IDS;
  return more > 0 ? `${ids},+${more}` : ids;
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
