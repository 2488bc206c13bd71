/**
 * What the producer's middleware puts on a request's Hono context, and the
 * problem+json answer every error path uses.
 *
 * @module
 */
import type { Context } from "hono";
import { type Problem, problem, problemResponse } from "@payments/shared/problem";

/** Hono environment of the producer app. */
export interface ProducerEnv {
  Variables: {
    /** The request's correlation id (a batch body's id replaces the header's). */
    correlationId: string;
    /** The problem this request was answered with, for the request's log line. */
    problem?: Problem;
    /** The producer's own end-to-end probe sent it (`middleware/probe_requests.ts`). */
    probe?: boolean;
  };
}

/** What {@linkcode problemFor} answers. */
export interface ProblemOptions {
  status: number;
  /** The last part of the problem's type, `urn:payments:problem:<kind>`. */
  kind: string;
  detail: string;
  /** More members of the body (`errors`, `reason`, `max_bytes`, ...). */
  extensions?: Partial<Problem>;
  /** Response headers (`retry-after`, `allow`, `www-authenticate`, ...). */
  headers?: HeadersInit;
}

/**
 * A problem+json response carrying the request's correlation id and path; the problem
 * is also kept on the context for the request's log line.
 *
 * @example
 * ```ts
 * return problemFor(c, {
 *   status: 503,
 *   kind: "not-ready",
 *   detail: "Kafka is not reachable",
 *   headers: { "retry-after": "5" },
 * });
 * ```
 */
export function problemFor(c: Context<ProducerEnv>, options: ProblemOptions): Response {
  const body = problem(options.status, options.kind, options.detail, {
    instance: safePath(c.req.path),
    correlation_id: c.get("correlationId"),
    ...options.extensions,
  });
  c.set("problem", body);
  return problemResponse(body, options.headers ?? {});
}

/** A request path bounded in length, so a problem body never echoes a huge URL. */
function safePath(path: string): string {
  return path.length <= 256 ? path : `${path.slice(0, 256)}...`;
}
