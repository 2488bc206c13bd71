/**
 * Prometheus helpers shared by the services: a fresh registry per service (never
 * prom-client's global one) and the exposition endpoint's response.
 *
 * @module
 */
import { collectDefaultMetrics, Registry } from "prom-client";

/**
 * A new registry with the default process metrics (CPU, memory, event-loop lag,
 * file descriptors) and a `service` default label.
 *
 * @example
 * ```ts
 * const registry = createRegistry("payment-producer");
 * new Counter({ name: "x_total", help: "x", registers: [registry] });
 * ```
 */
export function createRegistry(service: string, { defaults = true } = {}): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  if (defaults) {
    collectDefaultMetrics({ register: registry });
    for (const name of PROMTOOL_REJECTED) registry.removeSingleMetric(name);
  }
  return registry;
}

/**
 * prom-client default metrics that are gauges named `*_total`, which
 * `promtool check metrics` rejects; `nodejs_active_handles` and friends, by type,
 * carry the same figures and stay.
 */
const PROMTOOL_REJECTED = [
  "nodejs_active_handles_total",
  "nodejs_active_requests_total",
  "nodejs_active_resources_total",
];

/** The text exposition of a registry as an HTTP response. */
export async function metricsResponse(registry: Registry): Promise<Response> {
  return new Response(await registry.metrics(), {
    headers: { "content-type": registry.contentType },
  });
}

/** Batch size buckets of `payment_batch_size` (the lab's). */
export const BATCH_SIZE_BUCKETS = [1, 5, 10, 25, 50, 100, 250, 500];

/** Values of the `batch_size_range` label, smallest first (the lab's five ranges). */
export const BATCH_SIZE_RANGES = ["single", "small", "medium", "large", "xlarge"] as const;

/**
 * Label value of `batch_size_range`: single (1), small (2-10), medium (11-50),
 * large (51-100), xlarge (101-500).
 */
export function batchSizeRange(size: number): (typeof BATCH_SIZE_RANGES)[number] {
  if (size <= 1) return "single";
  if (size <= 10) return "small";
  if (size <= 50) return "medium";
  if (size <= 100) return "large";
  return "xlarge";
}

/**
 * The first sample of `name` in a Prometheus text exposition (with or without
 * labels), or undefined when it is absent.
 *
 * @example
 * ```ts
 * metricValue("process_resident_memory_bytes 1024\n", "process_resident_memory_bytes"); // 1024
 * ```
 */
export function metricValue(text: string, name: string): number | undefined {
  for (const line of text.split("\n")) {
    if (line.startsWith(name + " ") || line.startsWith(name + "{")) {
      const value = Number(line.slice(line.lastIndexOf(" ") + 1));
      if (Number.isFinite(value)) return value;
    }
  }
  return undefined;
}
