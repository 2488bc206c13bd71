/**
 * Every route of the producer, declared once: its method and path, whether it sits
 * behind `API_KEYS`, and its OpenAPI operation. The Hono pattern it is served under, the
 * `handler` label of its metrics, its `Allow` header and its place in `/openapi.json`
 * all come from here; `app.ts` binds each declaration to its handler.
 *
 * A new route is one entry in {@linkcode ROUTES} (paths in OpenAPI form,
 * `/payments/{payment_id}`), one handler, one line in `app.ts`.
 *
 * @module
 */
import { createRoute, type RouteConfig, type RouteHandler } from "@hono/zod-openapi";
import { z } from "zod";
import {
  BatchPaymentRequestSchema,
  PaymentIdSchema,
  PaymentRequestSchema,
} from "@payments/shared/payment";
import { PROBLEM_CONTENT_TYPE } from "@payments/shared/problem";
import type { ProducerEnv } from "../context.ts";
import {
  BatchPaymentResponseSchema,
  HealthSchema,
  PaymentStatusSchema,
  ProblemSchema,
  ReadySchema,
  SinglePaymentResponseSchema,
  StatsSchema,
} from "../schemas.ts";

/** One route: its OpenAPI operation, and whether it needs a key. */
export interface RouteDeclaration<R extends RouteConfig = RouteConfig> {
  /** Method, path (`{param}` form), summary, request and responses; `hide` keeps it out of the document. */
  readonly operation: R;
  /** Needs `Authorization: Bearer <key>` when `API_KEYS` is set (the document then says so). */
  readonly protected: boolean;
}

function declare<R extends RouteConfig>(
  operation: R,
  options: { protected?: boolean } = {},
): RouteDeclaration<R> {
  return { operation: createRoute(operation), protected: options.protected ?? false };
}

/** The problem+json answer of a status, for the document. */
export const problemContent = (description: string) => ({
  description,
  content: { [PROBLEM_CONTENT_TYPE]: { schema: ProblemSchema } },
});

/** Answers every payment route may give besides 202 (401 is added when keys are set). */
const PAYMENT_PROBLEMS = {
  400: problemContent("Malformed JSON, invalid fields (every offending path listed)"),
  413: problemContent("Body larger than PRODUCER_MAX_BODY_BYTES"),
  415: problemContent("Body is not application/json"),
  503: problemContent(
    "Kafka did not acknowledge in time, or the producer is at capacity (type " +
      "urn:payments:problem:overloaded: nothing was written); retry after Retry-After seconds",
  ),
};

const singlePayment = (path: "/payments" | "/payments/single", summary: string) =>
  declare({
    method: "post",
    path,
    summary,
    tags: ["payments"],
    request: {
      body: { required: true, content: { "application/json": { schema: PaymentRequestSchema } } },
    },
    responses: {
      202: {
        description: "Kafka acknowledged the payment",
        content: { "application/json": { schema: SinglePaymentResponseSchema } },
      },
      ...PAYMENT_PROBLEMS,
    },
  }, { protected: true });

/** Longest `?wait=` of a status read, in seconds. */
export const MAX_STATUS_WAIT_SECONDS = 30;

/** The query of `GET /payments/{payment_id}`. */
const StatusQuerySchema = z.object({
  wait: z.coerce.number().min(0).max(MAX_STATUS_WAIT_SECONDS).optional().meta({
    description: `Seconds (0-${MAX_STATUS_WAIT_SECONDS}, fractions allowed, default 0) to ` +
      "hold the request until a decision is committed, for a client that just got its 202",
  }),
});

/** The producer's routes, in the order they are registered. */
export const ROUTES = {
  payment: singlePayment("/payments", "Submit one payment"),
  paymentLab: singlePayment("/payments/single", "Submit one payment (the lab's path)"),
  batch: declare({
    method: "post",
    path: "/payments/batch",
    summary: "Submit 1-500 payments, written to Kafka in one send",
    tags: ["payments"],
    request: {
      body: {
        required: true,
        content: { "application/json": { schema: BatchPaymentRequestSchema } },
      },
    },
    responses: {
      202: {
        description: "Kafka acknowledged every payment of the batch",
        content: { "application/json": { schema: BatchPaymentResponseSchema } },
      },
      ...PAYMENT_PROBLEMS,
    },
  }, { protected: true }),
  paymentStatus: declare({
    method: "get",
    path: "/payments/{payment_id}",
    summary: "A payment's committed outcome, from the consumer that decided it",
    description: "Read from the store of the consumer instance that owns the payment " +
      "(read-committed); from a standby copy, marked stale, when that instance cannot be " +
      "reached. A read never writes anything to Kafka.",
    tags: ["payments"],
    request: {
      params: z.object({ payment_id: PaymentIdSchema }),
      query: StatusQuerySchema,
    },
    responses: {
      200: {
        description: "The payment was decided",
        content: { "application/json": { schema: PaymentStatusSchema } },
      },
      400: problemContent("An invalid payment_id (the rules of POST /payments) or wait"),
      404: problemContent(
        "No decision is known (type urn:payments:problem:no-decision): never received, " +
          "past CONSUMER_DEDUP_RETENTION, or received and not decided yet (received: true); " +
          "with ?wait=, only once the wait ended",
      ),
      503: problemContent(
        "The consumer instance holding the answer cannot be reached (down, or none owns it " +
          "during a rebalance); this says nothing about the payment: retry after Retry-After",
      ),
    },
  }, { protected: true }),
  health: declare({
    method: "get",
    path: "/health",
    summary: "Liveness: the process answers",
    tags: ["operations"],
    responses: {
      200: { description: "Alive", content: { "application/json": { schema: HealthSchema } } },
    },
  }),
  ready: declare({
    method: "get",
    path: "/ready",
    summary: "Readiness: connected to Kafka and the topic's metadata is known",
    tags: ["operations"],
    responses: {
      200: { description: "Ready", content: { "application/json": { schema: ReadySchema } } },
      503: problemContent("Not ready (starting, or Kafka unreachable)"),
    },
  }),
  stats: declare({
    method: "get",
    path: "/stats",
    summary: "Producer statistics since start (the lab's /stats)",
    tags: ["operations"],
    responses: {
      200: { description: "Totals", content: { "application/json": { schema: StatsSchema } } },
    },
  }, { protected: true }),
  metrics: declare({
    method: "get",
    path: "/metrics",
    hide: true,
    responses: { 200: { description: "Prometheus exposition (text or OpenMetrics)" } },
  }),
  openapi: declare({
    method: "get",
    path: "/openapi.json",
    hide: true,
    responses: { 200: { description: "This document" } },
  }),
  docs: declare({
    method: "get",
    path: "/docs",
    hide: true,
    responses: { 200: { description: "Swagger UI" } },
  }),
  docsAsset: declare({
    method: "get",
    path: "/docs/assets/swagger-ui-dist/{file}",
    hide: true,
    responses: { 200: { description: "Swagger UI's script and style" } },
  }),
} as const;

/** The name of a route in {@linkcode ROUTES}. */
export type RouteName = keyof typeof ROUTES;

/** The handler type of a declared route: typed request, typed answers. */
export type HandlerOf<D> = D extends RouteDeclaration<infer R> ? RouteHandler<R, ProducerEnv>
  : never;

/**
 * The Hono pattern of a route, which is also its `handler` metric label:
 * `/payments/{payment_id}` is served (and counted) as `/payments/:payment_id`.
 */
export function routePattern(route: RouteDeclaration): string {
  return route.operation.path.replaceAll(/\{([^}]+)\}/g, ":$1");
}

/** The patterns of the payment routes, whose HTTP and shed series start at 0. */
export const PAYMENT_ROUTE_PATTERNS: readonly string[] = [
  ROUTES.payment,
  ROUTES.paymentLab,
  ROUTES.batch,
]
  .map(routePattern);

/**
 * The `Allow` header of each pattern (a GET route answers HEAD too): the methods of
 * every route that serves its paths, so `/payments/batch` allows POST and also GET, the
 * status of a payment whose id is `batch`.
 */
export function allowedMethods(routes: readonly RouteDeclaration[]): Map<string, string> {
  const patterns = [...new Set(routes.map(routePattern))];
  return new Map(patterns.map((pattern) => {
    const methods = routes
      .filter((route) => covers(routePattern(route), pattern))
      .flatMap((route) => {
        const method = route.operation.method.toUpperCase();
        return method === "GET" ? ["GET", "HEAD"] : [method];
      });
    return [pattern, [...new Set(methods)].join(", ")];
  }));
}

/** Whether every path `pattern` matches is also matched by `route` (`:param` is one segment). */
function covers(route: string, pattern: string): boolean {
  const a = route.split("/");
  const b = pattern.split("/");
  return a.length === b.length && a.every((part, i) => part.startsWith(":") || part === b[i]);
}

/** Whether a request path is one a protected route serves (`:param` matches one segment). */
export function isProtectedPath(routes: readonly RouteDeclaration[], path: string): boolean {
  const segments = path.split("/");
  return routes.some((route) => {
    if (!route.protected) return false;
    const pattern = routePattern(route).split("/");
    return pattern.length === segments.length &&
      pattern.every((part, i) => part.startsWith(":") ? segments[i] !== "" : part === segments[i]);
  });
}
