/**
 * Operational endpoints: `GET /health` (liveness), `GET /ready` (Kafka
 * reachable and topic known), `GET /metrics`, `GET /stats`.
 *
 * @module
 */
import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { PROBLEM_CONTENT_TYPE } from "@payments/shared/problem";
import { metricsResponse } from "@payments/shared/metrics";
import { problemFor, type ProducerEnv } from "../context.ts";
import type { ProducerMetrics } from "../metrics.ts";
import type { Readiness } from "../publisher.ts";
import { HealthSchema, ProblemSchema, ReadySchema, StatsSchema } from "../schemas.ts";
import type { ProducerStats } from "../stats.ts";

/** Answers whether the service can take payments; may combine several checks. */
export type ReadinessCheck = () => Readiness | Promise<Readiness>;

/** What the operational routes need. */
export interface OperationRoutesDeps {
  metrics: ProducerMetrics;
  stats: ProducerStats;
  readiness: ReadinessCheck;
  topic: string;
  retryAfterSeconds: number;
  secured: boolean;
  now: () => Date;
}

/** Registers the operational routes on `app`. */
export function registerOperationRoutes(
  app: OpenAPIHono<ProducerEnv>,
  deps: OperationRoutesDeps,
) {
  app.openapi(
    createRoute({
      method: "get",
      path: "/health",
      summary: "Liveness: the process answers",
      tags: ["operations"],
      responses: {
        200: { description: "Alive", content: { "application/json": { schema: HealthSchema } } },
      },
    }),
    (c) => c.json({ status: "healthy" as const, timestamp: deps.now().toISOString() }, 200),
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/ready",
      summary: "Readiness: connected to Kafka and the topic's metadata is known",
      tags: ["operations"],
      responses: {
        200: { description: "Ready", content: { "application/json": { schema: ReadySchema } } },
        503: {
          description: "Not ready (starting, or Kafka unreachable)",
          content: { [PROBLEM_CONTENT_TYPE]: { schema: ProblemSchema } },
        },
      },
    }),
    async (c) => {
      let readiness: Readiness;
      try {
        readiness = await deps.readiness();
      } catch (error) {
        readiness = { ready: false, detail: `readiness check failed: ${String(error)}` };
      }
      if (readiness.ready) {
        return c.json({ status: "ready" as const, detail: readiness.detail }, 200);
      }
      return problemFor(c, 503, "not-ready", readiness.detail, {}, {
        "retry-after": String(deps.retryAfterSeconds),
      }) as never;
    },
  );

  app.get("/metrics", (c) => metricsResponse(deps.metrics.registry, c.req.header("accept")));

  app.openapi(
    createRoute({
      method: "get",
      path: "/stats",
      summary: "Producer statistics since start (the lab's /stats)",
      tags: ["operations"],
      security: deps.secured ? [{ bearer: [] }] : [],
      responses: {
        200: { description: "Totals", content: { "application/json": { schema: StatsSchema } } },
        ...(deps.secured
          ? {
            401: {
              description: "Missing or invalid API key (API_KEYS is set)",
              content: { [PROBLEM_CONTENT_TYPE]: { schema: ProblemSchema } },
            },
          }
          : {}),
      },
    }),
    async (c) => {
      let ready = false;
      try {
        ready = (await deps.readiness()).ready;
      } catch {
        ready = false;
      }
      return c.json({ ...deps.stats.snapshot(), topic: deps.topic, kafka_ready: ready }, 200);
    },
  );
}
