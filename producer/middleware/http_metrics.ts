/**
 * HTTP request metrics labelled by method, route pattern (never the raw path,
 * which would explode cardinality) and status.
 *
 * @module
 */
import type { Context, MiddlewareHandler } from "hono";
import { matchedRoutes } from "hono/route";
import { observeWithExemplar } from "@payments/shared/metrics";
import { activeTraceIds } from "@payments/shared/tracing";
import type { ProducerEnv } from "../context.ts";
import type { ProducerMetrics } from "../metrics.ts";

/** `handler` label of requests that matched no route. */
export const UNMATCHED = "unmatched";

const KNOWN_METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);

/** The route pattern that answers a request, or `unmatched` (global middleware only). */
export function handlerLabel(c: Context): string {
  const route = matchedRoutes(c).find((entry) => entry.path !== "*" && entry.path !== "/*");
  return route?.path ?? UNMATCHED;
}

/**
 * Counts and times every request, including those answered by `onError` or `notFound`,
 * except the probe's own (it counts itself); the duration's exemplar carries the
 * request's trace id (of the runtime's HTTP server span, active here) and correlation id.
 */
export function httpMetrics(metrics: ProducerMetrics): MiddlewareHandler<ProducerEnv> {
  return async (c, next) => {
    const started = performance.now();
    try {
      await next();
    } finally {
      if (!c.get("probe")) record(c, metrics, started);
    }
  };
}

function record(c: Context<ProducerEnv>, metrics: ProducerMetrics, started: number) {
  const method = KNOWN_METHODS.has(c.req.method) ? c.req.method : "OTHER";
  const labels = { method, handler: handlerLabel(c), status: String(c.res.status) };
  metrics.httpRequests.labels(labels).inc();
  observeWithExemplar(metrics.httpDuration, labels, (performance.now() - started) / 1000, {
    traceId: activeTraceIds()?.trace_id,
    correlationId: c.get("correlationId"),
  });
}
