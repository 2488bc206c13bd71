/**
 * The load generator's own Prometheus metrics (`--metrics-port`), so a load run
 * shows up in Grafana beside the services it drives.
 *
 * @module
 */
import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import { createRegistry, metricsResponse } from "@payments/shared/metrics";

/** What the runner reports to metrics. */
export interface LoadMetrics {
  request(status: string, payments: number, accepted: boolean, seconds: number): void;
  inFlight(requests: number): void;
  result(outcome: string, endToEndSeconds?: number): void;
}

/** Metrics that go nowhere (no `--metrics-port`). */
export const noMetrics: LoadMetrics = { request() {}, inFlight() {}, result() {} };

/** Registers the generator's metrics on a fresh registry. */
export function createLoadMetrics(
  offeredRate: number | undefined,
): { metrics: LoadMetrics; registry: Registry } {
  const registry = createRegistry("loadgen");
  const registers = [registry];
  const requests = new Counter({
    name: "loadgen_requests_total",
    help: "HTTP requests sent by the load generator, by response status (or timeout/network).",
    labelNames: ["status"],
    registers,
  });
  const payments = new Counter({
    name: "loadgen_payments_total",
    help: "Payments sent by the load generator, by what the API answered.",
    labelNames: ["result"],
    registers,
  });
  for (const result of ["accepted", "rejected", "shed", "error"]) {
    payments.labels({ result }).inc(0);
  }
  const duration = new Histogram({
    name: "loadgen_request_duration_seconds",
    help: "Time from sending a request to its answer, as the load generator saw it.",
    labelNames: ["status"],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers,
  });
  const inFlight = new Gauge({
    name: "loadgen_requests_in_flight",
    help: "Requests sent and not answered yet.",
    registers,
  });
  const offered = new Gauge({
    name: "loadgen_offered_rate_payments",
    help: "Payments per second the load generator offers (0 in closed model).",
    registers,
  });
  offered.set(offeredRate ?? 0);
  const results = new Counter({
    name: "loadgen_results_total",
    help: "Results of this run's payments read back from Kafka by --verify, by outcome.",
    labelNames: ["outcome"],
    registers,
  });
  const endToEnd = new Histogram({
    name: "loadgen_end_to_end_latency_seconds",
    help: "Producer accept (created_at) to committed result (record timestamp), by --verify.",
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers,
  });
  return {
    registry,
    metrics: {
      request(status, count, accepted, seconds) {
        requests.labels({ status }).inc();
        const result = accepted
          ? "accepted"
          : status === "shed"
          ? "shed"
          : status.startsWith("4")
          ? "rejected"
          : "error";
        payments.labels({ result }).inc(count);
        duration.labels({ status }).observe(seconds);
      },
      inFlight: (n) => inFlight.set(n),
      result(outcome, seconds) {
        results.labels({ outcome }).inc();
        if (seconds !== undefined) endToEnd.observe(Math.max(0, seconds));
      },
    },
  };
}

/** Serves `/metrics` of `registry` on `port`; close it with `shutdown()`. */
export function serveMetrics(registry: Registry, port: number): Deno.HttpServer {
  return Deno.serve({ port, hostname: "0.0.0.0", onListen() {} }, (request) => {
    const { pathname } = new URL(request.url);
    if (pathname === "/metrics") return metricsResponse(registry);
    return new Response("not found\n", { status: 404 });
  });
}
