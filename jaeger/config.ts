/**
 * The configuration the local Jaeger runs with: Jaeger's all-in-one reduced to what the
 * pipeline uses (OTLP in, memory storage, the query API), every port given, so several
 * Jaegers (dev, tests, other worktrees) can run side by side. Jaeger v2 is an
 * OpenTelemetry Collector, and JSON is YAML, so this object is its config file.
 *
 * @module
 */

/** The ports of one Jaeger. */
export interface JaegerPorts {
  /** OTLP over gRPC (Jaeger's default 4317). */
  otlpGrpc: number;
  /** OTLP over HTTP, what Deno exports to (Jaeger's default 4318). */
  otlpHttp: number;
  /** The query API (and UI, where the binary has it) (Jaeger's default 16686). */
  query: number;
  /** The query service's gRPC API (Jaeger's default 16685); nothing here uses it. */
  queryGrpc: number;
}

/** Jaeger's own defaults, what `deno task jaeger` listens on unless told otherwise. */
export const DEFAULT_JAEGER_PORTS: Readonly<JaegerPorts> = Object.freeze({
  otlpGrpc: 4317,
  otlpHttp: 4318,
  query: 16686,
  queryGrpc: 16685,
});

/** Options of {@linkcode jaegerConfig}. */
export interface JaegerConfigOptions {
  ports: JaegerPorts;
  /** Address every port binds to (default 127.0.0.1: nothing reachable from elsewhere). */
  host?: string;
  /** Traces kept in memory before the oldest are dropped (default 100,000, Jaeger's). */
  maxTraces?: number;
  /** Jaeger's own log level (default `warn`: it logs every component's start at info). */
  logLevel?: "debug" | "info" | "warn" | "error";
}

/**
 * The collector configuration for `jaeger --config file:<path>`.
 *
 * Left out of the all-in-one on purpose: the Jaeger and Zipkin receivers and remote
 * sampling (nothing here speaks them), the health check, expvar and zpages extensions
 * and the collector's own metrics endpoint (fixed ports that would clash between two
 * Jaegers), and the batch processor (memory storage gains nothing from it, and without it
 * a span is queryable as soon as it is received).
 */
export function jaegerConfig(options: JaegerConfigOptions): Record<string, unknown> {
  const host = options.host ?? "127.0.0.1";
  const at = (port: number) => `${host.includes(":") ? `[${host}]` : host}:${port}`;
  return {
    service: {
      extensions: ["jaeger_storage", "jaeger_query"],
      pipelines: {
        traces: { receivers: ["otlp"], exporters: ["jaeger_storage_exporter"] },
      },
      telemetry: {
        resource: { "service.name": "jaeger" },
        metrics: { level: "none" },
        logs: { level: options.logLevel ?? "warn" },
      },
    },
    extensions: {
      jaeger_storage: {
        backends: { memstore: { memory: { max_traces: options.maxTraces ?? 100_000 } } },
      },
      jaeger_query: {
        storage: { traces: "memstore" },
        // On by default in Jaeger v2: it traces its own API calls and exports them to
        // localhost:4317, which is this Jaeger's receiver when it runs on the default
        // ports (its own service appears among ours, and its last export at shutdown
        // retries for 10 s against the receiver that already stopped).
        enable_tracing: false,
        http: { endpoint: at(options.ports.query) },
        grpc: { endpoint: at(options.ports.queryGrpc) },
      },
    },
    receivers: {
      otlp: {
        protocols: {
          grpc: { endpoint: at(options.ports.otlpGrpc) },
          http: { endpoint: at(options.ports.otlpHttp) },
        },
      },
    },
    exporters: { jaeger_storage_exporter: { trace_storage: "memstore" } },
  };
}
