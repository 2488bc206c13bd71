/**
 * Prometheus helpers shared by the services: a fresh registry per service (never
 * prom-client's global one), histograms with exemplars, and the exposition endpoint's
 * response in the format the scraper asks for (Prometheus text, or OpenMetrics with
 * exemplars).
 *
 * @module
 */
import {
  collectDefaultMetrics,
  Histogram,
  type HistogramConfiguration,
  type Metric,
  type OpenMetricsContentType,
  Registry,
} from "prom-client";
import { isValidTraceId } from "@opentelemetry/api";

/**
 * A registry that renders both exposition formats from the same metrics: `metrics()`
 * is the Prometheus text format (no exemplars), `openMetrics()` the OpenMetrics text
 * with the exemplars of {@linkcode createExemplarHistogram} histograms.
 *
 * prom-client's own OpenMetrics registry renames every counter in place when it
 * renders (`x_total` becomes `x`, prometheus/client_js#829), which would break the
 * text format for every later scrape; `openMetrics()` renders through a throw-away
 * OpenMetrics registry and views of the counters instead.
 */
export class ServiceRegistry extends Registry {
  #defaultLabels: Record<string, string> = {};

  override setDefaultLabels(labels: Record<string, string>): void {
    this.#defaultLabels = { ...labels };
    super.setDefaultLabels(labels);
  }

  /** The OpenMetrics 1.0 exposition, exemplars included, ending with `# EOF`. */
  async openMetrics(): Promise<string> {
    const renderer = new Registry<OpenMetricsContentType>();
    renderer.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
    renderer.setDefaultLabels(this.#defaultLabels);
    for (const metric of this.getMetricsAsArray()) {
      renderer.registerMetric(openMetricsView(metric as unknown as Metric));
    }
    return await renderer.metrics();
  }
}

/**
 * What an OpenMetrics registry may render of `metric` without touching it: a counter
 * under its family name (`x` for `x_total`; the renderer appends `_total` to its
 * samples), anything else as it is.
 */
function openMetricsView(metric: Metric): Metric {
  const { name, help, type } = metric as unknown as { name: string; help: string; type: string };
  if (type !== "counter") return metric;
  const family = name.replace(/_total$/, "");
  const view = {
    name: family,
    help,
    type,
    get: async () => ({ ...(await metric.get()), name: family }),
  };
  return view as unknown as Metric;
}

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
export function createRegistry(service: string, { defaults = true } = {}): ServiceRegistry {
  const registry = new ServiceRegistry();
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

/**
 * The exposition of a registry as an HTTP response: OpenMetrics (with exemplars) when
 * `accept` prefers it and the registry is a {@linkcode ServiceRegistry}, otherwise the
 * Prometheus text format, which every scraper and the lab's tooling read.
 *
 * @example
 * ```ts
 * Deno.serve((request) => metricsResponse(registry, request.headers.get("accept")));
 * ```
 */
export async function metricsResponse(
  registry: Registry,
  accept?: string | null,
): Promise<Response> {
  const headers = { vary: "accept" };
  if (registry instanceof ServiceRegistry && prefersOpenMetrics(accept)) {
    return new Response(await registry.openMetrics(), {
      headers: { ...headers, "content-type": Registry.OPENMETRICS_CONTENT_TYPE },
    });
  }
  return new Response(await registry.metrics(), {
    headers: { ...headers, "content-type": Registry.PROMETHEUS_CONTENT_TYPE },
  });
}

/**
 * Whether an `Accept` header prefers OpenMetrics to the Prometheus text format: it
 * names `application/openmetrics-text` with a q-value at least that of `text/plain`
 * (or of a wildcard). Parameters other than `q` (`version`, `escaping`) are ignored:
 * both OpenMetrics versions Prometheus asks for read our output, and a strict
 * negotiator that matched parameters exactly would fall back to text for Prometheus 3.
 *
 * @example
 * ```ts
 * prefersOpenMetrics("application/openmetrics-text;version=1.0.0,text/plain;q=0.5"); // true
 * prefersOpenMetrics("text/plain;version=0.0.4;q=0.9,application/openmetrics-text;q=0.1"); // false
 * ```
 */
export function prefersOpenMetrics(accept: string | null | undefined): boolean {
  let openMetrics = 0;
  let text = 0;
  for (const range of (accept ?? "").split(",")) {
    const [type = "", ...parameters] = range.split(";").map((part) => part.trim().toLowerCase());
    const q = parameters.find((parameter) => parameter.startsWith("q="));
    const weight = q === undefined ? 1 : Number(q.slice(2));
    if (!Number.isFinite(weight) || weight <= 0) continue;
    if (type === "application/openmetrics-text") openMetrics = Math.max(openMetrics, weight);
    else if (["text/plain", "text/*", "*/*"].includes(type)) text = Math.max(text, weight);
  }
  return openMetrics > 0 && openMetrics >= text;
}

/**
 * A histogram that keeps, per bucket, the labels of the last observation made with
 * {@linkcode observeWithExemplar} (OpenMetrics exemplars). It is registered on
 * `registry` directly: prom-client refuses exemplars on a text-format registry, and
 * our text format simply leaves them out.
 *
 * @example
 * ```ts
 * const latency = createExemplarHistogram(registry, {
 *   name: "end_to_end_latency_seconds", help: "...", labelNames: ["topic"], buckets: [0.1, 1],
 * });
 * ```
 */
export function createExemplarHistogram<T extends string>(
  registry: Registry,
  config: Omit<HistogramConfiguration<T>, "registers" | "enableExemplars">,
): Histogram<T> {
  const histogram = new Histogram<T>({ ...config, enableExemplars: true, registers: [] });
  registry.registerMetric(histogram);
  return histogram;
}

/** Where an exemplar comes from: the payment's (or request's) trace and correlation ids. */
export interface ExemplarSource {
  /** The id of the trace the observation belongs to (its span's, `shared/tracing.ts`). */
  traceId?: string | undefined;
  correlationId?: string | undefined;
}

/** OpenMetrics bounds an exemplar's label names and values to 128 characters together. */
const EXEMPLAR_LABELS_MAX = 128;

/**
 * The exemplar labels of an observation: `trace_id` (a valid trace id: none without
 * `OTEL_DENO`) and `correlation_id`. A correlation id too long to fit the 128-character
 * limit beside the trace id is left out rather than cut, since a prefix would match
 * other payments' logs.
 *
 * @example
 * ```ts
 * exemplarLabels({ traceId: "4bf92f3577b34da6a3ce929d0e0e4736", correlationId: "demo-42" });
 * // { trace_id: "4bf92f3577b34da6a3ce929d0e0e4736", correlation_id: "demo-42" }
 * ```
 */
export function exemplarLabels(source: ExemplarSource): Record<string, string> {
  const labels: Record<string, string> = {};
  if (source.traceId !== undefined && isValidTraceId(source.traceId)) {
    labels.trace_id = source.traceId;
  }
  const used = Object.entries(labels).reduce((n, [k, v]) => n + k.length + v.length, 0);
  const id = source.correlationId;
  if (id && used + "correlation_id".length + id.length <= EXEMPLAR_LABELS_MAX) {
    labels.correlation_id = id;
  }
  return labels;
}

/**
 * Observes `value` on a {@linkcode createExemplarHistogram} histogram, with the
 * source's trace and correlation ids as the bucket's exemplar.
 *
 * @example
 * ```ts
 * observeWithExemplar(latency, { topic: "payment_requests" }, 0.042, { traceId, correlationId });
 * ```
 */
export function observeWithExemplar<T extends string>(
  histogram: Histogram<T>,
  labels: Partial<Record<T, string | number>>,
  value: number,
  source: ExemplarSource,
): void {
  // prom-client types exemplar labels as the metric's own label names; they are not.
  const exemplar = exemplarLabels(source) as Partial<Record<T, string>>;
  histogram.observe({ labels, value, exemplarLabels: exemplar });
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
