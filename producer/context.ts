/**
 * What the producer's middleware puts on a request's Hono context, and the
 * problem+json answer every error path uses.
 *
 * @module
 */
import type { Context } from "hono";
import { type Problem, problem, problemResponse } from "@payments/shared/problem";
import type { Entry } from "./admission.ts";

/** Hono environment of the producer app. */
export interface ProducerEnv {
  Variables: {
    /** The request's correlation id (a batch body's id replaces the header's). */
    correlationId: string;
    /** This request's `traceparent` (continued from the caller's or new). */
    traceparent: string;
    /** The problem this request was answered with, for the request's log line. */
    problem?: Problem;
    /** The payment request's place in the admission queue (payment routes only). */
    admission?: Entry;
  };
}

/**
 * A problem+json response carrying the request's correlation id and path.
 *
 * @example
 * ```ts
 * return problemFor(c, 415, "unsupported-media-type", "Send application/json");
 * ```
 */
export function problemFor(
  c: Context<ProducerEnv>,
  status: number,
  kind: string,
  detail: string,
  extensions: Partial<Problem> = {},
  headers: HeadersInit = {},
): Response {
  const body = problem(status, kind, detail, {
    instance: safePath(c.req.path),
    correlation_id: c.get("correlationId"),
    ...extensions,
  });
  c.set("problem", body);
  return problemResponse(body, headers);
}

/** A request path bounded in length, so a problem body never echoes a huge URL. */
function safePath(path: string): string {
  return path.length <= 256 ? path : `${path.slice(0, 256)}...`;
}
