/**
 * The handler of `GET /payments/{payment_id}` (declared in `declarations.ts`): the
 * payment's committed outcome, read from the consumers' stores
 * (`../status/status_reader.ts`). The id and `?wait=` were validated by the route (400
 * otherwise). A read never writes to Kafka.
 *
 * - 200: decided (`stale: true` when part of it came from a standby copy);
 * - 404 `no-decision`: none known; `received: true` when the payment was claimed and is
 *   being decided;
 * - 503 `status-unavailable` with `Retry-After`: nobody holding the answer could be
 *   asked. Never a 404 for "cannot tell".
 *
 * @module
 */
import { problemFor } from "../context.ts";
import type { PaymentStatusReader } from "../status/status_reader.ts";
import { type HandlerOf, ROUTES } from "./declarations.ts";

/**
 * Where a payment's status is read, relative to the API: `/payments/TEST-001`. Ids are
 * 1-64 of `[A-Za-z0-9._:-]`, every one of them valid in a path segment as it is.
 */
export function statusUrl(paymentId: string): string {
  return ROUTES.paymentStatus.operation.path.replace("{payment_id}", paymentId);
}

/** What the handler needs. */
export interface PaymentStatusDeps {
  statuses: PaymentStatusReader;
  retryAfterSeconds: number;
}

/** Builds the handler. */
export function paymentStatusHandler(
  deps: PaymentStatusDeps,
): HandlerOf<typeof ROUTES.paymentStatus> {
  return async (c) => {
    const { payment_id: paymentId } = c.req.valid("param");
    const waitMs = Math.round((c.req.valid("query").wait ?? 0) * 1000);
    // Not ended early by a client that went away: Deno 2.9's request.signal also aborts
    // on every successful response (its legacy behaviour), and reading it prints a
    // warning on stderr, a line that is not JSON. The wait is bounded (30 s).
    const answer = await deps.statuses.read(paymentId, { waitMs });
    switch (answer.kind) {
      case "decided":
        return c.json(answer.status, 200);
      case "unknown":
        // Problem answers are not the typed JSON answer: the document lists them apart.
        return problemFor(c, {
          status: 404,
          kind: "no-decision",
          detail: `No payment ${paymentId} is known: it was never received, is not read ` +
            `from Kafka yet, or was decided longer ago than the retention` +
            (waitMs > 0 ? ` (waited ${waitMs / 1000} s)` : ""),
          extensions: { payment_id: paymentId, received: false },
        }) as never;
      case "deciding":
        return problemFor(c, {
          status: 404,
          kind: "no-decision",
          detail: `Payment ${paymentId} was received (claimed at ${answer.claimedAt}) and is ` +
            `being decided: ask again, or with ?wait=<seconds>` +
            (waitMs > 0 ? ` (waited ${waitMs / 1000} s)` : ""),
          extensions: { payment_id: paymentId, received: true },
        }) as never;
      case "unavailable":
        return problemFor(c, {
          status: 503,
          kind: "status-unavailable",
          detail: `Cannot read the status of ${paymentId} now: ${answer.detail}. This says ` +
            `nothing about the payment itself.`,
          extensions: { payment_id: paymentId },
          headers: { "retry-after": String(deps.retryAfterSeconds) },
        }) as never;
    }
  };
}
