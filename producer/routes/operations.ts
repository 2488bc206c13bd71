/**
 * The handlers of the operational routes (declared in `declarations.ts`):
 * `GET /health` (liveness), `GET /ready` (Kafka reachable and topic known),
 * `GET /metrics`, `GET /stats`.
 *
 * @module
 */
import { metricsResponse } from "@payments/shared/metrics";
import { problemFor } from "../context.ts";
import type { ProducerMetrics } from "../metrics.ts";
import type { Readiness } from "../publisher.ts";
import type { ProducerStats } from "../stats.ts";
import type { HandlerOf, ROUTES } from "./declarations.ts";

/** Answers whether the service can take payments; may combine several checks. */
export type ReadinessCheck = () => Readiness | Promise<Readiness>;

/** What the operational handlers need. */
export interface OperationHandlersDeps {
  metrics: ProducerMetrics;
  stats: ProducerStats;
  readiness: ReadinessCheck;
  topic: string;
  retryAfterSeconds: number;
  now: () => Date;
}

/** The handler of each operational route. */
export interface OperationHandlers {
  health: HandlerOf<typeof ROUTES.health>;
  ready: HandlerOf<typeof ROUTES.ready>;
  metrics: HandlerOf<typeof ROUTES.metrics>;
  stats: HandlerOf<typeof ROUTES.stats>;
}

/** Builds the operational handlers. */
export function operationHandlers(deps: OperationHandlersDeps): OperationHandlers {
  const readiness = async (): Promise<Readiness> => {
    try {
      return await deps.readiness();
    } catch (error) {
      return { ready: false, detail: `readiness check failed: ${String(error)}` };
    }
  };
  return {
    health: (c) => c.json({ status: "healthy" as const, timestamp: deps.now().toISOString() }, 200),
    ready: async (c) => {
      const { ready, detail } = await readiness();
      if (ready) return c.json({ status: "ready" as const, detail }, 200);
      // A problem+json body is not the typed JSON answer: the document lists it apart.
      return problemFor(c, {
        status: 503,
        kind: "not-ready",
        detail,
        headers: { "retry-after": String(deps.retryAfterSeconds) },
      }) as never;
    },
    metrics: (c) => metricsResponse(deps.metrics.registry, c.req.header("accept")),
    stats: async (c) =>
      c.json({
        ...deps.stats.snapshot(),
        topic: deps.topic,
        kafka_ready: (await readiness()).ready,
      }, 200),
  };
}
