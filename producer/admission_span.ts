/**
 * The span of a payment request's admission, `admit payments`: from its arrival at the
 * payment route to the decision to publish it, which covers reading and parsing the
 * body, validating every payment, the probe's reserved ids and both budget checks of
 * `middleware/admission.ts`. A child of the HTTP server span, before the request's send
 * span; its outcome says how it ended: `admitted`, `shed` (with the budget that was
 * full) or `refused` (answered 4xx before admission: not JSON, too large, invalid).
 *
 * @module
 */
import { type Span, SpanKind, type Tracer } from "@opentelemetry/api";
import { isSampled } from "@payments/shared/tracing";
import type { ShedReason } from "./admission.ts";

/** How an admission ended. */
export type AdmissionOutcome =
  | { outcome: "admitted"; payments: number }
  | { outcome: "shed"; reason: ShedReason; payments?: number }
  | { outcome: "refused"; status: number };

/** Starts the span of a request that just arrived, a child of the span active here. */
export function startAdmission(tracer: Tracer, declaredBytes: number | undefined): Span {
  const span = tracer.startSpan("admit payments", { kind: SpanKind.INTERNAL });
  if (declaredBytes !== undefined && isSampled(span)) {
    span.setAttribute("http.request.body.size", declaredBytes);
  }
  return span;
}

/** Ends the span with how the admission ended. */
export function endAdmission(span: Span, ended: AdmissionOutcome): void {
  if (isSampled(span)) {
    span.setAttribute("payments.admission.outcome", ended.outcome);
    if (ended.outcome === "shed") span.setAttribute("payments.admission.shed_reason", ended.reason);
    if (ended.outcome === "refused") span.setAttribute("http.response.status_code", ended.status);
    if ("payments" in ended && ended.payments !== undefined) {
      span.setAttribute("payments.count", ended.payments);
    }
  }
  span.end();
}
