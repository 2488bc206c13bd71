/**
 * The traces of `deno task dev`: where the services export their spans, and the Jaeger
 * dev starts for them. In order:
 *
 * 1. `OTEL_EXPORTER_OTLP_ENDPOINT` is set: the services export there, nothing is started;
 * 2. a Jaeger already listens on the OTLP and query ports (`deno task jaeger` in another
 *    terminal): the services export to it;
 * 3. the Jaeger binary is built, or Go can build it (`@payments/jaeger`, once per
 *    machine, about 5 minutes): dev starts it (`deno task jaeger`, data in
 *    `.data/jaeger`) and the services export to it;
 * 4. otherwise dev says in one line how to get it and goes on with tracing off.
 *
 * With a backend the services run with `OTEL_DENO=true` and every trace sampled (a dev
 * session wants the trace of each request it sends), unless the environment says
 * otherwise; their service names come from `<service>/telemetry.env`.
 *
 * @module
 */
import { JaegerError } from "@payments/jaeger/launcher";
import { DEFAULT_JAEGER_PORTS, type JaegerPorts } from "@payments/jaeger/config";
import { CHILD_OPTIONS } from "./dev_processes.ts";

/** How dev's services get their traces to a backend. */
export type DevTraces =
  /** Export to this endpoint; `command` set when dev starts the Jaeger itself. */
  | { on: true; endpoint: string; queryUrl?: string; command?: Deno.Command; line: string }
  /** No backend: the one line saying how to get one. */
  | { on: false; line: string };

/** Options of {@linkcode devTraces}. */
export interface DevTracesOptions {
  /** The repository root (holds jaeger/). */
  root: string;
  /** dev's environment. */
  env: Record<string, string>;
  /** Config and log folder of a Jaeger dev starts. */
  dataDir: string;
  isListening: (port: number) => Promise<boolean>;
  /** Builds the Jaeger binary when it is missing (`ensureJaeger`); throws without Go. */
  ensureJaeger: () => Promise<string>;
}

/** The Jaeger ports dev uses: the `JAEGER_*_PORT` variables `deno task jaeger` reads. */
export function devJaegerPorts(env: Record<string, string>): JaegerPorts {
  const port = (name: string, fallback: number) => Number(env[name] ?? fallback);
  return {
    otlpGrpc: port("JAEGER_OTLP_GRPC_PORT", DEFAULT_JAEGER_PORTS.otlpGrpc),
    otlpHttp: port("JAEGER_OTLP_HTTP_PORT", DEFAULT_JAEGER_PORTS.otlpHttp),
    query: port("JAEGER_QUERY_PORT", DEFAULT_JAEGER_PORTS.query),
    queryGrpc: port("JAEGER_QUERY_GRPC_PORT", DEFAULT_JAEGER_PORTS.queryGrpc),
  };
}

/** Decides where the traces go (see the module documentation). */
export async function devTraces(options: DevTracesOptions): Promise<DevTraces> {
  const { env } = options;
  const given = env.OTEL_EXPORTER_OTLP_ENDPOINT;
  if (given) {
    return { on: true, endpoint: given, line: `traces       exported to ${given}` };
  }
  const ports = devJaegerPorts(env);
  const endpoint = `http://127.0.0.1:${ports.otlpHttp}`;
  const queryUrl = `http://localhost:${ports.query}`;
  if (await options.isListening(ports.otlpHttp) && await options.isListening(ports.query)) {
    return {
      on: true,
      endpoint,
      queryUrl,
      line: `Jaeger       ${queryUrl} (already running; query API only without compose)`,
    };
  }
  try {
    await options.ensureJaeger();
  } catch (error) {
    if (!(error instanceof JaegerError)) throw error;
    return { on: false, line: `Jaeger not started, traces off: ${error.message}` };
  }
  return {
    on: true,
    endpoint,
    queryUrl,
    command: new Deno.Command(Deno.execPath(), {
      // --ignore-sigint: a Ctrl-C meant for the services never stops Jaeger before their
      // last spans are exported; dev stops it with SIGTERM.
      args: ["run", "-A", `${options.root}jaeger/main.ts`, "--ignore-sigint"],
      env: {
        JAEGER_DATA_DIR: options.dataDir,
        JAEGER_OTLP_GRPC_PORT: String(ports.otlpGrpc),
        JAEGER_OTLP_HTTP_PORT: String(ports.otlpHttp),
        JAEGER_QUERY_PORT: String(ports.query),
        JAEGER_QUERY_GRPC_PORT: String(ports.queryGrpc),
      },
      ...CHILD_OPTIONS,
    }),
    line: `Jaeger       ${queryUrl}/api/services  (query API; data ${options.dataDir})`,
  };
}

/**
 * The services' tracing environment: export to `traces`' endpoint with every trace
 * sampled (parent-based), unless `env` sets these itself; nothing without a backend.
 */
export function devTracingEnv(
  traces: DevTraces,
  env: Record<string, string>,
): Record<string, string> {
  if (!traces.on) return {};
  return {
    OTEL_DENO: env.OTEL_DENO ?? "true",
    OTEL_EXPORTER_OTLP_ENDPOINT: traces.endpoint,
    OTEL_TRACES_SAMPLER: env.OTEL_TRACES_SAMPLER ?? "parentbased_always_on",
    ...(env.OTEL_TRACES_SAMPLER_ARG
      ? { OTEL_TRACES_SAMPLER_ARG: env.OTEL_TRACES_SAMPLER_ARG }
      : {}),
  };
}

/**
 * The banner's line that lists the trace of the README's request (payment TEST-001) in
 * Jaeger's query API, whole: the producer's spans and both consumer tasks'.
 */
export function traceCurlLine(queryUrl: string, paymentId = "TEST-001"): string {
  return `curl -sG ${queryUrl}/api/traces --data-urlencode service=payment-consumer ` +
    `--data-urlencode 'tags={"payment.id":"${paymentId}"}' | jq '.data[].spans[].operationName'`;
}
