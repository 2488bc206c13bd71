/**
 * The consumer's small HTTP surface: `/metrics`, `/health` (the process and its event
 * loop answer), `/ready` (a group member with an assignment or waiting for one, and
 * Kafka reachable; 503 otherwise) with assigned partitions and lag in the body.
 *
 * @module
 */
import type { Registry } from "prom-client";
import { metricsResponse } from "@payments/shared/metrics";
import { problem, problemResponse } from "@payments/shared/problem";
import type { PartitionLag } from "@payments/shared/lag";
import type { WorkerStatus } from "./worker.ts";

/** What the handler reads. */
export interface ServerDeps {
  registry: Registry;
  status: () => WorkerStatus;
  topic: string;
  /** The lag monitor's last measurement (empty when the monitor is off). */
  lag: () => PartitionLag[];
  /** Whether Kafka answers (an admin round trip, cached by the caller). */
  kafkaReachable: () => Promise<boolean>;
  startedAt?: Date;
}

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
    if (request.method !== "GET" && request.method !== "HEAD") {
      return problemResponse(
        problem(405, "method-not-allowed", `${request.method} is not allowed on ${pathname}`),
        { allow: "GET, HEAD" },
      );
    }
    switch (pathname) {
      case "/metrics":
        return await metricsResponse(deps.registry, request.headers.get("accept"));
      case "/health":
        return json({
          status: "healthy",
          timestamp: new Date().toISOString(),
          uptime_seconds: Math.round((Date.now() - startedAt.getTime()) / 1000),
        });
      case "/ready": {
        const status = deps.status();
        const member = status.state === "assigned" || status.state === "waiting";
        const kafka = member && await deps.kafkaReachable();
        const ready = member && kafka;
        return json({
          status: ready ? "ready" : "not_ready",
          state: status.state,
          kafka_reachable: kafka,
          member_id: status.memberId ?? null,
          assigned_partitions: status.assignedPartitions.map((partition) => ({
            topic: deps.topic,
            partition,
          })),
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
