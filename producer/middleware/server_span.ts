/**
 * Names the runtime's HTTP server span as the HTTP conventions ask: `{method} {route}`
 * (`POST /payments/batch`, `GET /payments/:payment_id`) with `http.route`, where Deno
 * alone can only call it `POST`. The route is the pattern that answered, never the raw
 * path (a payment id in a span name would make every name unique). A request no route
 * answered keeps the method alone. The probe's own requests are marked, so a trace
 * search can leave them out.
 *
 * @module
 */
import { trace } from "@opentelemetry/api";
import type { MiddlewareHandler } from "hono";
import { PAYMENT_ATTR } from "@payments/shared/span_attributes";
import { isSampled, nameServerSpan as name } from "@payments/shared/tracing";
import type { ProducerEnv } from "../context.ts";
import { handlerLabel, UNMATCHED } from "./http_metrics.ts";

/** The middleware; a no-op outside a sampled server span (no `OTEL_DENO`, `app.request()`). */
export function nameServerSpan(): MiddlewareHandler<ProducerEnv> {
  return async (c, next) => {
    const span = trace.getActiveSpan();
    try {
      await next();
    } finally {
      if (span && isSampled(span)) {
        const route = handlerLabel(c);
        if (route !== UNMATCHED) name(c.req.method, route, span);
        if (c.get("probe")) span.setAttribute(PAYMENT_ATTR.probe, true);
      }
    }
  };
}
