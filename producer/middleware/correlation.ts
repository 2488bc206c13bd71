/**
 * Correlation and trace context for each request: honours a safe
 * `x-correlation-id` (else a new UUID), continues the caller's `traceparent`
 * (else starts a trace), binds both to every log line of the request, and
 * returns the correlation id in the `x-correlation-id` response header.
 *
 * @module
 */
import type { MiddlewareHandler } from "hono";
import { getLogger, type Logger, withContext } from "@logtape/logtape";
import { isSafeCorrelationId } from "@payments/shared/payment";
import { continueTrace, formatTraceparent } from "@payments/shared/tracing";
import type { ProducerEnv } from "../context.ts";
import { handlerLabel } from "./http_metrics.ts";

/** Request header (and response header) carrying the correlation id. */
export const CORRELATION_HEADER = "x-correlation-id";

/**
 * The correlation middleware; logs one line per finished request (debug for
 * successes, info for errors) inside the request's context.
 */
export function correlation(logger: Logger = getLogger(["producer", "http"])): MiddlewareHandler<
  ProducerEnv
> {
  return async (c, next) => {
    const started = performance.now();
    const offered = c.req.header(CORRELATION_HEADER);
    const correlationId = isSafeCorrelationId(offered) ? offered : crypto.randomUUID();
    const traceparent = formatTraceparent(continueTrace(c.req.header("traceparent")));
    c.set("correlationId", correlationId);
    c.set("traceparent", traceparent);
    await withContext({ correlation_id: correlationId, traceparent }, () => next());
    // A batch may carry its own correlation id, which then wins.
    const finalId = c.get("correlationId");
    c.res.headers.set(CORRELATION_HEADER, finalId);
    withContext({ correlation_id: finalId, traceparent }, () => {
      const fields = {
        method: c.req.method,
        handler: handlerLabel(c),
        status: c.res.status,
        duration_ms: Math.round((performance.now() - started) * 1000) / 1000,
      };
      const message = "{method} {handler} answered {status} in {duration_ms} ms";
      if (c.res.status >= 400) logger.info(message, fields);
      else logger.debug(message, fields);
    });
  };
}
