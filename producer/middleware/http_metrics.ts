/**
 * HTTP request metrics labelled by method, route pattern (never the raw path,
 * which would explode cardinality) and status.
 *
 * @module
 */
import type { Context, MiddlewareHandler } from "hono";
import { matchedRoutes } from "hono/route";
import type { ProducerMetrics } from "../metrics.ts";

/** `handler` label of requests that matched no route. */
export const UNMATCHED = "unmatched";

const KNOWN_METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);

/** The route pattern that answers a request, or `unmatched` (global middleware only). */
export function handlerLabel(c: Context): string {
  const route = matchedRoutes(c).find((entry) => entry.path !== "*" && entry.path !== "/*");
  return route?.path ?? UNMATCHED;
}

/** Counts and times every request, including those answered by `onError` or `notFound`. */
export function httpMetrics(metrics: ProducerMetrics): MiddlewareHandler {
  return async (c, next) => {
    const started = performance.now();
    try {
      await next();
    } finally {
      const method = KNOWN_METHODS.has(c.req.method) ? c.req.method : "OTHER";
      const labels = [method, handlerLabel(c), String(c.res.status)] as const;
      metrics.httpRequests.labels(...labels).inc();
      metrics.httpDuration.labels(...labels).observe((performance.now() - started) / 1000);
    }
  };
}
