/**
 * The consumer's small HTTP surface: `/metrics`, `/health` and `/ready`, with assigned
 * partitions and lag in the body of `/ready`. For an orchestrator:
 * - `/ready` (readiness, `readiness.ts`): 200 only while the worker is a group member
 *   whose every assigned task is restored and running (or a member without partitions)
 *   and Kafka answers; 503 with the reason while it starts, joins, rebalances,
 *   restores, restarts its consumer after a retriable crash, has crashed for good, or
 *   cannot reach Kafka. A rolling deploy that waits for it never stops an old instance
 *   while the new one owns nothing.
 * - `/health` (liveness): 200 unless the worker crashed for good. Then kafkajs will never
 *   consume again and nothing inside the process can change that, so it answers 503 and
 *   a liveness probe restarts the process: a fresh client that rejoins the group, which
 *   heals a cause that has gone (a group id clash, an authorization fixed since) and, for
 *   one that has not (a batch no codec reads), becomes a visible restart loop with the
 *   orchestrator's backoff while the ConsumerCrashed alert fires. Kafka being
 *   unreachable is not a liveness failure: the worker retries by itself and a restart
 *   would not help.
 *
 * @module
 */
import type { Registry } from "prom-client";
import { metricsResponse } from "@payments/shared/metrics";
import { problem, problemResponse } from "@payments/shared/problem";
import { nameServerSpan } from "@payments/shared/tracing";
import type { PartitionLag } from "@payments/lag/monitor";
import { readiness } from "./readiness.ts";
import { isStoreRead } from "./store_reads.ts";
import type { WorkerStatus } from "./status.ts";

/** What the handler reads. */
export interface ServerDeps {
  registry: Registry;
  status: () => WorkerStatus;
  topic: string;
  /** The lag monitor's last measurement (empty when the monitor is off). */
  lag: () => PartitionLag[];
  /** Whether Kafka answers (an admin round trip, cached by the caller). */
  kafkaReachable: () => Promise<boolean>;
  /** Reads of the task stores (`store_reads.ts`); absent, `/stores/...` is 404. */
  storeReads?: (request: Request) => Promise<Response>;
  startedAt?: Date;
}

/** The routes served here, as a server span names them. */
const ROUTES = new Set(["/metrics", "/health", "/ready"]);
const STORE_READ_ROUTE = "/stores/:kind/:partition/:payment_id";

const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json" },
  });

/**
 * The request handler for `Deno.serve`.
 *
 * @example
 * ```ts
 * Deno.serve({ port: 8001 }, createHandler(deps));
 * ```
 */
export function createHandler(deps: ServerDeps): (request: Request) => Promise<Response> {
  const startedAt = deps.startedAt ?? new Date();
  return async (request) => {
    const { pathname } = new URL(request.url);
    if (deps.storeReads && isStoreRead(pathname) && request.method === "GET") {
      nameServerSpan(request.method, STORE_READ_ROUTE);
      return await deps.storeReads(request);
    }
    if (ROUTES.has(pathname)) nameServerSpan(request.method, pathname);
    if (request.method !== "GET" && request.method !== "HEAD") {
      return problemResponse(
        problem(405, "method-not-allowed", `${request.method} is not allowed on ${pathname}`),
        { allow: "GET, HEAD" },
      );
    }
    switch (pathname) {
      case "/metrics":
        return await metricsResponse(deps.registry, request.headers.get("accept"));
      case "/health": {
        const crashed = deps.status().state === "crashed";
        return json({
          status: crashed ? "unhealthy" : "healthy",
          ...(crashed
            ? {
              reason: "the consumer stopped consuming for good after a non-retriable error " +
                "(see the log line 'Consumer stopped for good'); restart the process",
            }
            : {}),
          timestamp: new Date().toISOString(),
          uptime_seconds: Math.round((Date.now() - startedAt.getTime()) / 1000),
        }, crashed ? 503 : 200);
      }
      case "/ready": {
        const status = deps.status();
        const member = status.state === "assigned" || status.state === "waiting";
        const kafka = member && await deps.kafkaReachable();
        const { ready, reason } = readiness(status, kafka);
        return json({
          status: ready ? "ready" : "not_ready",
          reason,
          state: status.state,
          kafka_reachable: kafka,
          member_id: status.memberId ?? null,
          assigned_partitions: status.assignedPartitions.map((partition) => ({
            topic: deps.topic,
            partition,
          })),
          tasks: status.assignedTasks.map((t) => ({
            task: `${t.kind}-${t.partition}`,
            state: t.state,
          })),
          standby_tasks: (status.standbyTasks ?? []).map((t) => `${t.kind}-${t.partition}`),
          lag: deps.lag().map((l) => ({
            topic: l.topic,
            partition: l.partition,
            committed: l.committed,
            log_end: l.logEnd,
            lag_messages: l.lagMessages,
            lag_seconds: l.lagSeconds,
            status: l.status,
          })),
        }, ready ? 200 : 503);
      }
      default:
        return problemResponse(problem(404, "not-found", `No route ${pathname}`));
    }
  };
}
