/**
 * `POST /payments`, `POST /payments/single` (the lab's alias) and
 * `POST /payments/batch`: validate, publish in one send, answer 202 only once
 * Kafka acknowledged every payment, 503 with `Retry-After` when it did not.
 *
 * @module
 */
import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import type { Context, MiddlewareHandler } from "hono";
import { type Logger, withContext } from "@logtape/logtape";
import {
  BatchPaymentRequestSchema,
  type PaymentRequest,
  PaymentRequestSchema,
} from "@payments/shared/payment";
import { PROBLEM_CONTENT_TYPE } from "@payments/shared/problem";
import { type Admission, OverloadedError } from "../admission.ts";
import { problemFor, type ProducerEnv } from "../context.ts";
import { ingest, type IngestDeps } from "../ingest.ts";
import { admissionGate, type Shedder } from "../middleware/admission_gate.ts";
import { limitBody, requireJson } from "../middleware/json_body.ts";
import { PublishError } from "../publisher.ts";
import {
  BatchPaymentResponseSchema,
  ProblemSchema,
  SinglePaymentResponseSchema,
} from "../schemas.ts";
import type { ProducerStats } from "../stats.ts";

/** What the payment routes need. */
export interface PaymentRoutesDeps extends IngestDeps {
  stats: ProducerStats;
  logger: Logger;
  maxBodyBytes: number;
  retryAfterSeconds: number;
  secured: boolean;
  admission: Admission;
  shed: Shedder;
}

const problemContent = (description: string) => ({
  description,
  content: { [PROBLEM_CONTENT_TYPE]: { schema: ProblemSchema } },
});

function errorResponses(secured: boolean) {
  return {
    400: problemContent("Malformed JSON, invalid fields (every offending path listed)"),
    ...(secured ? { 401: problemContent("Missing or invalid API key") } : {}),
    413: problemContent("Body larger than PRODUCER_MAX_BODY_BYTES"),
    415: problemContent("Body is not application/json"),
    503: problemContent(
      "Kafka did not acknowledge in time, or the producer is at capacity (type " +
        "urn:payments:problem:overloaded: nothing was written); retry after Retry-After seconds",
    ),
  };
}

function countRejections(stats: ProducerStats): MiddlewareHandler<ProducerEnv> {
  return async (c, next) => {
    await next();
    if (c.res.status >= 400 && c.res.status < 500) stats.recordRejected();
  };
}

function unavailable(c: Context<ProducerEnv>, error: PublishError, retryAfter: number): Response {
  const written = error.mayHaveWritten
    ? "Kafka may have written some of these payments all the same; resending them with the " +
      "same payment_id is safe (a repeat is answered DUPLICATE)."
    : "Nothing of this request was written.";
  return problemFor(
    c,
    503,
    "kafka-unavailable",
    `${error.message}. ${written}`,
    {},
    error.retriable ? { "retry-after": String(retryAfter) } : {},
  );
}

/** Registers the payment routes on `app`. */
export function registerPaymentRoutes(app: OpenAPIHono<ProducerEnv>, deps: PaymentRoutesDeps) {
  const middleware = [
    countRejections(deps.stats),
    requireJson(),
    // Before the body limit: for a body without Content-Length it reads the whole body.
    admissionGate(deps.admission, deps.shed, deps.maxBodyBytes),
    limitBody(deps.maxBodyBytes),
  ] as const;
  const security = deps.secured ? [{ bearer: [] }] : [];

  const singleRoute = (path: "/payments" | "/payments/single", summary: string) =>
    createRoute({
      method: "post",
      path,
      summary,
      tags: ["payments"],
      security,
      middleware: [...middleware],
      request: {
        body: { required: true, content: { "application/json": { schema: PaymentRequestSchema } } },
      },
      responses: {
        202: {
          description: "Kafka acknowledged the payment",
          content: { "application/json": { schema: SinglePaymentResponseSchema } },
        },
        ...errorResponses(deps.secured),
      },
    });

  const publishSingle = async (c: Context<ProducerEnv>, payment: PaymentRequest) => {
    const correlationId = c.get("correlationId");
    try {
      const { results, processingMs } = await ingest(deps, [payment], {
        correlationId,
        traceparent: c.get("traceparent"),
        batch: false,
        admission: c.get("admission"),
      });
      const body = {
        ...results[0]!,
        correlation_id: correlationId,
        topic: deps.publisher.topic,
        processing_time_ms: round(processingMs),
      };
      deps.logger.info("Payment {payment_id} accepted in {processing_time_ms} ms", {
        payment_id: body.payment_id,
        total_payments: 1,
        partition: body.partition,
        offset: body.offset,
        processing_time_ms: body.processing_time_ms,
      });
      return c.json(body, 202);
    } catch (error) {
      if (error instanceof OverloadedError) return deps.shed(c, error.reason);
      if (!(error instanceof PublishError)) throw error;
      deps.logger.warn("Payment {payment_id} not accepted: {error}", {
        payment_id: payment.payment_id,
        error: error.message,
      });
      return unavailable(c, error, deps.retryAfterSeconds);
    }
  };

  app.openapi(
    singleRoute("/payments", "Submit one payment"),
    (c) => publishSingle(c, c.req.valid("json")),
  );
  app.openapi(
    singleRoute("/payments/single", "Submit one payment (the lab's path)"),
    (c) => publishSingle(c, c.req.valid("json")),
  );

  const batchRoute = createRoute({
    method: "post",
    path: "/payments/batch",
    summary: "Submit 1-500 payments, written to Kafka in one send",
    tags: ["payments"],
    security,
    middleware: [...middleware],
    request: {
      body: {
        required: true,
        content: { "application/json": { schema: BatchPaymentRequestSchema } },
      },
    },
    responses: {
      202: {
        description: "Kafka acknowledged every payment of the batch",
        content: { "application/json": { schema: BatchPaymentResponseSchema } },
      },
      ...errorResponses(deps.secured),
    },
  });

  app.openapi(batchRoute, async (c) => {
    const batch = c.req.valid("json");
    if (batch.correlation_id) c.set("correlationId", batch.correlation_id);
    const correlationId = c.get("correlationId");
    const batchId = crypto.randomUUID();
    return await withContext({ correlation_id: correlationId, batch_id: batchId }, async () => {
      try {
        const { results, processingMs } = await ingest(deps, batch.payments, {
          correlationId,
          traceparent: c.get("traceparent"),
          batch: true,
          admission: c.get("admission"),
        });
        const body = {
          batch_id: batchId,
          correlation_id: correlationId,
          status: "accepted" as const,
          topic: deps.publisher.topic,
          total_payments: results.length,
          successful: results.length,
          failed: 0,
          results,
          processing_time_ms: round(processingMs),
        };
        deps.logger.info(
          "Batch {batch_id} of {total_payments} payments accepted in {processing_time_ms} ms",
          {
            total_payments: body.total_payments,
            payment_ids: listIds(batch.payments),
            processing_time_ms: body.processing_time_ms,
          },
        );
        return c.json(body, 202);
      } catch (error) {
        if (error instanceof OverloadedError) return deps.shed(c, error.reason);
        if (!(error instanceof PublishError)) throw error;
        deps.logger.warn("Batch {batch_id} of {total_payments} payments not accepted: {error}", {
          total_payments: batch.payments.length,
          error: error.message,
        });
        return unavailable(c, error, deps.retryAfterSeconds);
      }
    });
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
