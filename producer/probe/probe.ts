/**
 * The continuous end-to-end probe (redpanda-data/kminion's end-to-end probe, for a
 * payment pipeline): every `intervalMs` the producer sends one synthetic payment
 * through its own public API, a real HTTP request like a client's (with an API key when
 * keys are configured), then asks `GET /payments/{id}?wait=` for its decision. The time
 * from the POST to the decision is what a client waits; a probe that gets no decision
 * counts a failure with the reason. It is the first thing to turn red when the
 * pipeline stops deciding while no client traffic flows, which no lag or rate shows.
 *
 * Probe payments carry the reserved marks of `@payments/shared/probe` (id
 * `pipeline-probe:<uuid>`, merchant `pipeline-probe`, a customer of their own so no
 * velocity rule ever counts them together), and the probe's header, so the API leaves
 * them out of its metrics; the consumer recognises them by their id. Runs never
 * overlap: the next starts an interval after the previous one started, or at once if
 * that one took longer.
 *
 * Each probe is a trace of its own: a root span `pipeline probe` holding the POST and
 * the status read (Deno's client spans), so the payment's whole way through both
 * services hangs under it, and the duration's exemplar leads to it. A root, because a
 * timer callback would otherwise inherit whatever span was active when it was set.
 *
 * @module
 */
import { type Span, SpanStatusCode, type Tracer } from "@opentelemetry/api";
import type { Logger } from "@logtape/logtape";
import { observeWithExemplar } from "@payments/shared/metrics";
import { PAYMENT_ATTR } from "@payments/shared/span_attributes";
import { isSampled, pipelineTracer, traceIds } from "@payments/shared/tracing";
import { PROBE_ID_PREFIX, PROBE_MERCHANT_ID } from "@payments/shared/probe";
import { PROBE_HEADER } from "../middleware/probe_requests.ts";
import type { ProbeFailure, ProbeMetrics } from "./probe_metrics.ts";

/** What the probe needs. */
export interface ProbeDeps {
  /** The API as a client reaches it (main.ts: `http://127.0.0.1:<PRODUCER_PORT>`). */
  baseUrl: string;
  /** Sent in `x-pipeline-probe`: what makes the API treat the request as the probe's. */
  token: string;
  /** Sent as `Authorization: Bearer`, when the API needs keys. */
  apiKey?: string;
  /** Milliseconds between the starts of two probes. */
  intervalMs: number;
  /** Longest wait for the decision (`?wait=` of the status read), in ms. */
  timeoutMs: number;
  metrics: ProbeMetrics;
  logger: Logger;
  fetch?: typeof fetch;
  /** Monotonic milliseconds (default `performance.now`). */
  now?: () => number;
  /** A fresh unique id (default `crypto.randomUUID`). */
  newId?: () => string;
  /** Default: the services' tracer (`@payments/shared/tracing`). */
  tracer?: Tracer;
}

/** How one probe ended. */
export type ProbeOutcome =
  | { ok: true; paymentId: string; seconds: number; status: string; stale: boolean }
  | { ok: false; paymentId: string; reason: ProbeFailure; detail: string };

/** A running probe. */
export interface Probe extends AsyncDisposable {
  /** Runs probes every interval until {@linkcode stop}; the first one interval from now. */
  start(): void;
  /** One probe now (what each scheduled run does), its metrics recorded. */
  runOnce(): Promise<ProbeOutcome>;
  /** No more probes; the one under way is abandoned (not counted). */
  stop(): Promise<void>;
}

/** How long the probe's POST may take (the API answers 503 after its send timeout). */
const SUBMIT_TIMEOUT_MS = 15_000;
/** How long past its wait the status read may take. */
const STATUS_GRACE_MS = 5_000;

/** Creates a probe; nothing runs until {@linkcode Probe.start} or {@linkcode Probe.runOnce}. */
export function createProbe(deps: ProbeDeps): Probe {
  const fetchFn = deps.fetch ?? fetch;
  const now = deps.now ?? (() => performance.now());
  const newId = deps.newId ?? (() => crypto.randomUUID());
  const tracer = deps.tracer ?? pipelineTracer();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let running: Promise<unknown> | undefined;
  let stopped = false;
  const abort = new AbortController();

  const headers = (paymentId: string): Record<string, string> => ({
    [PROBE_HEADER]: deps.token,
    "x-correlation-id": paymentId,
    ...(deps.apiKey ? { authorization: `Bearer ${deps.apiKey}` } : {}),
  });

  /** One request; a thrown error (refused, timed out) becomes `unreachable`. */
  async function call(
    url: string,
    init: RequestInit,
    timeoutMs: number,
  ): Promise<{ response: Response; body: unknown } | { error: string }> {
    try {
      const signal = AbortSignal.any([abort.signal, AbortSignal.timeout(timeoutMs)]);
      const response = await fetchFn(url, { ...init, signal });
      const body = await response.json().catch(() => undefined);
      return { response, body };
    } catch (error) {
      return { error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) };
    }
  }

  async function probe(): Promise<ProbeOutcome> {
    const paymentId = `${PROBE_ID_PREFIX}${newId()}`;
    const fail = (reason: ProbeFailure, detail: string): ProbeOutcome => ({
      ok: false,
      paymentId,
      reason,
      detail,
    });
    const started = now();
    const submitted = await call(`${deps.baseUrl}/payments`, {
      method: "POST",
      headers: { ...headers(paymentId), "content-type": "application/json" },
      body: JSON.stringify({
        payment_id: paymentId,
        amount: 1,
        currency: "USD",
        merchant_id: PROBE_MERCHANT_ID,
        customer_id: `${PROBE_ID_PREFIX}${newId()}`,
        description: "end-to-end probe",
      }),
    }, SUBMIT_TIMEOUT_MS);
    if ("error" in submitted) return fail("unreachable", `POST /payments: ${submitted.error}`);
    const posted = submitted.response.status;
    const location = submitted.response.headers.get("location");
    if (posted >= 500) return fail("submit_unavailable", `POST /payments answered ${posted}`);
    if (posted >= 400) return fail("submit_rejected", `POST /payments answered ${posted}`);
    if (posted !== 202 || !location) {
      return fail("unexpected_answer", `POST /payments answered ${posted} without a Location`);
    }

    const waitSeconds = deps.timeoutMs / 1000;
    const read = await call(`${deps.baseUrl}${location}?wait=${waitSeconds}`, {
      headers: headers(paymentId),
    }, deps.timeoutMs + STATUS_GRACE_MS);
    if ("error" in read) return fail("unreachable", `GET ${location}: ${read.error}`);
    const { response, body } = read;
    const answer = (body ?? {}) as { status?: unknown; stale?: unknown; detail?: unknown };
    if (response.status === 200 && typeof answer.status === "string") {
      return {
        ok: true,
        paymentId,
        seconds: (now() - started) / 1000,
        status: answer.status,
        stale: answer.stale === true,
      };
    }
    const detail = `GET ${location} answered ${response.status}` +
      (typeof answer.detail === "string" ? `: ${answer.detail}` : "");
    if (response.status === 404) return fail("not_decided", detail);
    if (response.status === 503) return fail("status_unavailable", detail);
    return fail("unexpected_answer", detail);
  }

  function record(outcome: ProbeOutcome, span: Span): void {
    if (outcome.ok) {
      observeWithExemplar(deps.metrics.duration, {}, outcome.seconds, {
        traceId: traceIds(span)?.trace_id,
        correlationId: outcome.paymentId,
      });
      deps.logger.debug("Probe {payment_id} {status} after {seconds} s", {
        payment_id: outcome.paymentId,
        status: outcome.status,
        seconds: outcome.seconds,
        stale: outcome.stale,
      });
      return;
    }
    deps.metrics.failures.labels(outcome.reason).inc();
    deps.logger.warn(
      "Probe {payment_id} got no decision ({reason}): {detail}; runbook " +
        "docs/runbook.md#pipelineprobefailing",
      { payment_id: outcome.paymentId, reason: outcome.reason, detail: outcome.detail },
    );
  }

  function runOnce(): Promise<ProbeOutcome> {
    return tracer.startActiveSpan("pipeline probe", { root: true }, async (span) => {
      try {
        const outcome = await probe();
        // A probe cut short by stop() says nothing about the pipeline.
        if (!abort.signal.aborted) record(outcome, span);
        if (isSampled(span)) describe(span, outcome);
        return outcome;
      } finally {
        span.end();
      }
    });
  }

  function schedule(delayMs: number) {
    if (stopped) return;
    timer = setTimeout(() => {
      const started = now();
      running = runOnce().finally(() => {
        running = undefined;
        schedule(Math.max(0, deps.intervalMs - (now() - started)));
      });
    }, delayMs);
  }

  const stop = async () => {
    stopped = true;
    clearTimeout(timer);
    abort.abort();
    await running;
  };
  return {
    start: () => schedule(deps.intervalMs),
    runOnce,
    stop,
    [Symbol.asyncDispose]: stop,
  };
}

/** The probe span's attributes: the payment, and how the probe ended. */
function describe(span: Span, outcome: ProbeOutcome): void {
  span.setAttributes({ [PAYMENT_ATTR.id]: outcome.paymentId, [PAYMENT_ATTR.probe]: true });
  if (outcome.ok) {
    span.setAttribute(PAYMENT_ATTR.outcome, outcome.status);
  } else {
    span.setAttribute("payments.probe.failure", outcome.reason);
    span.setStatus({ code: SpanStatusCode.ERROR, message: outcome.detail });
  }
}
