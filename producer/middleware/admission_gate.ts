/**
 * Admission control at the HTTP edge: the gate that sheds a payment request on arrival,
 * before its body is read, and the `503 overloaded` answer every shed request gets.
 * The second check, once the body says how many payments a request carries, runs in
 * `ingest` (see `admission.ts` for both budgets).
 *
 * @module
 */
import type { Context, MiddlewareHandler } from "hono";
import type { Logger } from "@logtape/logtape";
import type { Admission, ShedReason } from "../admission.ts";
import { problemFor, type ProducerEnv } from "../context.ts";
import type { ProducerMetrics } from "../metrics.ts";
import type { ProducerStats } from "../stats.ts";
import { handlerLabel } from "./http_metrics.ts";

/** What the gate and the overloaded answer need. */
export interface AdmissionGateDeps {
  admission: Admission;
  metrics: ProducerMetrics;
  /** `/stats` counts shed requests apart from published and rejected ones. */
  stats: Pick<ProducerStats, "recordShed">;
  retryAfterSeconds: number;
  logger: Logger;
  /** Least time between two "shedding" log lines (default 10 s). */
  logEveryMs?: number;
}

const WHY: Record<ShedReason, string> = {
  inflight_full: "too many payments in flight to Kafka",
  queue_full: "too many request bodies being read",
};

/** The answer to a shed request; counts it and logs (rate-limited) that load is shed. */
export type Shedder = (c: Context<ProducerEnv>, reason: ShedReason) => Response;

/**
 * Builds the {@linkcode Shedder}: `503` problem+json of type `overloaded` with
 * `Retry-After`, counted in `http_requests_shed_total{handler,reason}` and in `/stats`. A body not read
 * yet is discarded unread, which keeps the connection usable for the client's next
 * request (answering without touching it makes Deno close the connection).
 */
export function createShedder(deps: AdmissionGateDeps): Shedder {
  const logEveryMs = deps.logEveryMs ?? 10_000;
  let loggedAt = -Infinity;
  let unlogged = 0;
  return (c, reason) => {
    const handler = handlerLabel(c);
    deps.metrics.requestsShed.labels(handler, reason).inc();
    deps.stats.recordShed();
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
    const raw = c.req.raw;
    if (raw.body && !raw.bodyUsed && !raw.body.locked) raw.body.cancel().catch(() => {});
    return problemFor(
      c,
      503,
      "overloaded",
      `The producer is at capacity (${WHY[reason]}): this request was refused before ` +
        `anything was sent to Kafka, so nothing of it was written. Retry after ` +
        `${deps.retryAfterSeconds} seconds.`,
      { reason },
      { "retry-after": String(deps.retryAfterSeconds) },
    );
  };
}

/**
 * Route middleware: takes a place in the queue of requests being read for the body's
 * declared size (`maxBodyBytes` when it has no `Content-Length`, or more than that: the
 * body limit refuses it next, unread), or sheds the request before its body is read.
 * The place is left when the request ends, unless `ingest` moved the request into the
 * in-flight budget first.
 */
export function admissionGate(
  admission: Admission,
  shed: Shedder,
  maxBodyBytes: number,
): MiddlewareHandler<ProducerEnv> {
  return async (c, next) => {
    const declared = Number(c.req.header("content-length") ?? Number.NaN);
    const bytes = Number.isSafeInteger(declared) && declared >= 0
      ? Math.min(declared, maxBodyBytes)
      : maxBodyBytes;
    const entry = admission.enter(bytes);
    if (!entry.ok) return shed(c, entry.reason);
    c.set("admission", entry);
    try {
      await next();
      return undefined;
    } finally {
      entry.leave();
    }
  };
}
