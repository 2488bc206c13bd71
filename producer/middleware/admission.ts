/**
 * Admission control of the payment routes at the HTTP edge, decided and answered here
 * and nowhere else (the budgets themselves are `../admission.ts`):
 *
 * 1. {@linkcode AdmissionControl.onArrival}, route middleware before the body is read:
 *    a place in the queue of bodies being read, or `503 overloaded` at once.
 * 2. {@linkcode AdmissionControl.admit}, around the route's handler once the body is
 *    validated: its payments taken into the in-flight budget, or `503 overloaded`; the
 *    handler gets the admitted payments' `release` to hand to the publisher.
 *
 * The time from the first to the second, with the decision, is the request's
 * `admit payments` span (`../admission_span.ts`).
 *
 * @module
 */
import type { Span, Tracer } from "@opentelemetry/api";
import type { Context, Handler, MiddlewareHandler } from "hono";
import type { Logger } from "@logtape/logtape";
import { pipelineTracer } from "@payments/shared/tracing";
import type { Admission, Admitted, Entry, ShedReason } from "../admission.ts";
import { endAdmission, startAdmission } from "../admission_span.ts";
import { problemFor, type ProducerEnv } from "../context.ts";
import type { ProducerMetrics } from "../metrics.ts";
import type { ProducerStats } from "../stats.ts";
import { handlerLabel } from "./http_metrics.ts";

/** What admission control needs. */
export interface AdmissionControlDeps {
  admission: Admission;
  metrics: ProducerMetrics;
  /** `/stats` counts shed requests apart from published and rejected ones. */
  stats: Pick<ProducerStats, "recordShed">;
  retryAfterSeconds: number;
  /** A body without `Content-Length` takes this many bytes of the queue. */
  maxBodyBytes: number;
  logger: Logger;
  /** Least time between two "shedding" log lines (default 10 s). */
  logEveryMs?: number;
  /** Default: the services' tracer (`@payments/shared/tracing`). */
  tracer?: Tracer;
}

/**
 * A payment route's handler behind admission: the validated body, and the admitted
 * payments, whose `release` goes to the publisher (`onSettled`).
 */
export interface AdmittedHandler<Body> {
  /** How many payments the body carries (what the in-flight budget must take). */
  payments(body: Body): number;
  handle(c: Context<ProducerEnv>, body: Body, admitted: Admitted): Promise<Response>;
}

/** The two checks of a payment request; see the module documentation. */
export interface AdmissionControl {
  readonly onArrival: MiddlewareHandler<ProducerEnv>;
  admit<Body>(handler: AdmittedHandler<Body>): Handler<ProducerEnv>;
}

const WHY: Record<ShedReason, string> = {
  inflight_full: "too many payments in flight to Kafka",
  queue_full: "too many request bodies being read",
};

/**
 * Builds the admission control of one app. Every shed request is answered `503`
 * problem+json of type `overloaded` with `Retry-After`, counted in
 * `http_requests_shed_total{handler,reason}` and in `/stats`, and summed up in a
 * rate-limited warning.
 */
export function createAdmissionControl(deps: AdmissionControlDeps): AdmissionControl {
  // A request's place in the queue, from its arrival to its admission (or its end).
  const entries = new WeakMap<Context, Entry>();
  // The admission span of a request not decided yet (`admit` ends it).
  const spans = new WeakMap<Context, Span>();
  const tracer = deps.tracer ?? pipelineTracer();
  const shed = createShedder(deps);

  const onArrival: MiddlewareHandler<ProducerEnv> = async (c, next) => {
    // Counted by its declared size (capped: the body limit refuses a larger one next,
    // unread); a body without one counts as the largest allowed.
    const declared = Number(c.req.header("content-length") ?? Number.NaN);
    const known = Number.isSafeInteger(declared) && declared >= 0;
    const bytes = known ? Math.min(declared, deps.maxBodyBytes) : deps.maxBodyBytes;
    const span = startAdmission(tracer, known ? declared : undefined);
    const entry = deps.admission.enter(bytes);
    if (!entry.ok) {
      endAdmission(span, { outcome: "shed", reason: entry.reason });
      return shed(c, entry.reason);
    }
    entries.set(c, entry);
    spans.set(c, span);
    try {
      await next();
      return undefined;
    } finally {
      // Leaves the queue unless `admit` moved the request into the in-flight budget.
      entry.leave();
      // Still open: answered before `admit` (415, 413, 400).
      if (spans.delete(c)) endAdmission(span, { outcome: "refused", status: c.res.status });
    }
  };

  const admit = <Body>(handler: AdmittedHandler<Body>): Handler<ProducerEnv> => (c) => {
    const entry = entries.get(c);
    const span = spans.get(c);
    if (!entry || !span) throw new Error("admit() runs only on routes behind onArrival");
    spans.delete(c);
    // The route's validator ran before this handler: the body is what the schema says.
    const body = c.req.valid("json" as never) as Body;
    const payments = handler.payments(body);
    const admitted = entry.admit(payments);
    if (!admitted.ok) {
      endAdmission(span, { outcome: "shed", reason: admitted.reason, payments });
      return shed(c, admitted.reason);
    }
    endAdmission(span, { outcome: "admitted", payments });
    return handler.handle(c, body, admitted);
  };

  return { onArrival, admit };
}

function createShedder(deps: AdmissionControlDeps) {
  const logEveryMs = deps.logEveryMs ?? 10_000;
  let loggedAt = -Infinity;
  let unlogged = 0;
  return (c: Context<ProducerEnv>, reason: ShedReason): Response => {
    // The probe's requests are counted by the probe (a failed probe), not as clients'.
    if (!c.get("probe")) {
      deps.metrics.requestsShed.labels(handlerLabel(c), reason).inc();
      deps.stats.recordShed();
    }
    unlogged++;
    const now = performance.now();
    // One line per request would turn an overload into a logging storm.
    if (now - loggedAt >= logEveryMs) {
      const state = deps.admission.state();
      deps.logger.warn(
        "Overloaded: shed {shed} payment requests ({reason}); {inflight}/{max_inflight} " +
          "payments in flight, {queued_bytes}/{max_queued_bytes} body bytes being read",
        {
          shed: unlogged,
          reason,
          inflight: state.inflightPayments,
          max_inflight: state.maxInflightPayments,
          queued_bytes: state.queuedBytes,
          max_queued_bytes: state.maxQueuedBytes,
        },
      );
      loggedAt = now;
      unlogged = 0;
    }
    // A body not read yet is discarded unread, which keeps the connection usable for the
    // client's next request (answering without touching it makes Deno close it).
    const raw = c.req.raw;
    if (raw.body && !raw.bodyUsed && !raw.body.locked) raw.body.cancel().catch(() => {});
    return problemFor(c, {
      status: 503,
      kind: "overloaded",
      detail: `The producer is at capacity (${WHY[reason]}): this request was refused before ` +
        `anything was sent to Kafka, so nothing of it was written. Retry after ` +
        `${deps.retryAfterSeconds} seconds.`,
      extensions: { reason },
      headers: { "retry-after": String(deps.retryAfterSeconds) },
    });
  };
}
