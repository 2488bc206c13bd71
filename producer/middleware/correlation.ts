/**
 * Correlation for each request: honours a safe `x-correlation-id` (else a new UUID),
 * binds it to every log line of the request, and returns it in the `x-correlation-id`
 * response header. The trace context is the runtime's: Deno's HTTP server span continues
 * the caller's `traceparent` (with `OTEL_DENO=true`), and the log sinks add its ids.
 *
 * @module
 */
import type { MiddlewareHandler } from "hono";
import { type Logger, withContext } from "@logtape/logtape";
import { oneLine } from "@payments/shared/logging";
import { isSafeCorrelationId } from "@payments/shared/payment";
import type { Problem } from "@payments/shared/problem";
import type { ProducerEnv } from "../context.ts";
import { handlerLabel } from "./http_metrics.ts";

const OVERLOADED_TYPE = "urn:payments:problem:overloaded";

/** Request header (and response header) carrying the correlation id. */
export const CORRELATION_HEADER = "x-correlation-id";

/** Longest request path a log line carries (a client can send any length). */
export const MAX_LOGGED_PATH = 200;
/** Most offending field paths one log line lists. */
const MAX_LOGGED_FIELDS = 10;

/**
 * Why a request was refused, for its log line: the problem's title and detail and the
 * offending field paths, never the body itself.
 */
function refusal(problem: Problem | undefined): Record<string, string> {
  if (!problem) return {};
  const paths = (problem.errors ?? []).map((error) => error.path);
  return {
    problem: problem.title,
    detail: oneLine(problem.detail, 300),
    ...(paths.length > 0
      ? {
        fields: oneLine(
          paths.slice(0, MAX_LOGGED_FIELDS).join(",") +
            (paths.length > MAX_LOGGED_FIELDS ? `,+${paths.length - MAX_LOGGED_FIELDS}` : ""),
          300,
        ),
      }
      : {}),
  };
}

/**
 * The correlation middleware; logs one line per finished request (debug for
 * successes, info for errors, with the reason) inside the request's context. The
 * line carries the real path, bounded and with control characters escaped, so an
 * unmatched route shows what was asked for.
 */
export function correlation(logger: Logger): MiddlewareHandler<ProducerEnv> {
  return async (c, next) => {
    const started = performance.now();
    const offered = c.req.header(CORRELATION_HEADER);
    const correlationId = isSafeCorrelationId(offered) ? offered : crypto.randomUUID();
    c.set("correlationId", correlationId);
    await withContext({ correlation_id: correlationId }, () => next());
    // A batch may carry its own correlation id, which then wins.
    const finalId = c.get("correlationId");
    c.res.headers.set(CORRELATION_HEADER, finalId);
    withContext({ correlation_id: finalId }, () => {
      const path = oneLine(c.req.path, MAX_LOGGED_PATH);
      const handler = handlerLabel(c);
      const fields = {
        method: c.req.method,
        path,
        // The route pattern, when it says more than the path (`unmatched`, `:file`).
        ...(handler === path ? {} : { handler }),
        status: c.res.status,
        duration_ms: Math.round((performance.now() - started) * 1000) / 1000,
        ...(c.res.status >= 400 ? refusal(c.get("problem")) : {}),
      };
      const message = "{method} {path} answered {status} in {duration_ms} ms";
      // A shed request is counted (http_requests_shed_total) and summed up by the
      // admission gate's own warning; a line each would flood the log under overload.
      const shed = c.get("problem")?.type === OVERLOADED_TYPE;
      if (c.res.status >= 400 && !shed) logger.info(message, fields);
      else logger.debug(message, fields);
    });
  };
}
