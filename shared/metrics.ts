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
  if (defaults) collectDefaultMetrics({ register: registry });
  return registry;
}

/** The text exposition of a registry as an HTTP response. */
export async function metricsResponse(registry: Registry): Promise<Response> {
  return new Response(await registry.metrics(), {
    headers: { "content-type": registry.contentType },
  });
}

/** Batch size buckets of `payment_batch_size` (the lab's). */
export const BATCH_SIZE_BUCKETS = [1, 5, 10, 25, 50, 100, 250, 500];

/** Label value of `batch_size_range`: single, small (2-10), medium (11-100), large (101+). */
export function batchSizeRange(size: number): "single" | "small" | "medium" | "large" {
  if (size <= 1) return "single";
  if (size <= 10) return "small";
  if (size <= 100) return "medium";
  return "large";
}
