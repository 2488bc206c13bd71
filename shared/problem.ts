/**
 * RFC 9457 problem details (`application/problem+json`): the one error body
 * every HTTP endpoint of the pipeline returns.
 *
 * @module
 */

/** Media type of problem details. */
export const PROBLEM_CONTENT_TYPE = "application/problem+json";

/** One invalid field, with its dotted path (`payments.3.amount`). */
export interface FieldError {
  path: string;
  message: string;
}

/** A problem details body. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  correlation_id?: string;
  errors?: FieldError[];
  [extension: string]: unknown;
}

const TITLES: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  404: "Not Found",
  405: "Method Not Allowed",
  413: "Content Too Large",
  415: "Unsupported Media Type",
  421: "Misdirected Request",
  431: "Request Header Fields Too Large",
  500: "Internal Server Error",
  503: "Service Unavailable",
};

/**
 * Builds a problem body; `type` is a stable URN per kind of problem so clients
 * can branch on it without parsing text.
 *
 * @example
 * ```ts
 * problem(400, "validation", "2 fields are invalid", { errors });
 * ```
 */
export function problem(
  status: number,
  kind: string,
  detail: string,
  extensions: Partial<Problem> = {},
): Problem {
  return {
    type: `urn:payments:problem:${kind}`,
    title: TITLES[status] ?? "Error",
    status,
    detail,
    ...extensions,
  };
}

/** A `Response` carrying a problem body, with any extra headers. */
export function problemResponse(body: Problem, headers: HeadersInit = {}): Response {
  const merged = new Headers(headers);
  merged.set("content-type", PROBLEM_CONTENT_TYPE);
  return new Response(JSON.stringify(body), { status: body.status, headers: merged });
}
