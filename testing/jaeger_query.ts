/**
 * A small typed client of Jaeger's query API (`/api/services`, `/api/traces`,
 * `/api/traces/{id}`), the JSON the Jaeger UI reads, with waits for traces that arrive
 * "soon": spans reach Jaeger when their process exports them, never at once.
 *
 * @module
 */
import { eventually } from "./wait.ts";

/** A tag of a span or process: OpenTelemetry attributes become these. */
export interface JaegerKeyValue {
  key: string;
  type: string;
  value: unknown;
}

/** A span's link to another: its parent (`CHILD_OF`) or an OpenTelemetry link (`FOLLOWS_FROM`). */
export interface JaegerReference {
  refType: "CHILD_OF" | "FOLLOWS_FROM";
  traceID: string;
  spanID: string;
}

/** One span as the query API answers it (times in microseconds). */
export interface JaegerSpan {
  traceID: string;
  spanID: string;
  operationName: string;
  references: JaegerReference[];
  startTime: number;
  duration: number;
  tags: JaegerKeyValue[];
  logs: { timestamp: number; fields: JaegerKeyValue[] }[];
  processID: string;
  warnings: string[] | null;
}

/** One trace: its spans, and the processes (services) that sent them. */
export interface JaegerTrace {
  traceID: string;
  spans: JaegerSpan[];
  processes: Record<string, { serviceName: string; tags: JaegerKeyValue[] }>;
}

/** A search of `/api/traces`. */
export interface TraceSearch {
  service: string;
  operation?: string;
  /** Span tags that must all match, e.g. `{ "payment.id": "P-1" }`. */
  tags?: Record<string, string>;
  /** At most this many traces (Jaeger's default 100). */
  limit?: number;
}

/** Options of the waits. */
export interface WaitOptions {
  /** Default 30 s: export happens in batches, on a shared machine. */
  timeoutMs?: number;
  /** What the failure says was awaited. */
  what?: string;
  /** More to add to the failure (the services' log tails). */
  context?: () => string;
}

/** The client; every method throws when Jaeger answers an error. */
export interface JaegerQuery {
  readonly url: string;
  /** The services that sent spans. */
  services(): Promise<string[]>;
  /** The traces matching `search`, newest first as Jaeger returns them. */
  findTraces(search: TraceSearch): Promise<JaegerTrace[]>;
  /** One trace by id (32 hex digits), or undefined when Jaeger has none. */
  trace(traceId: string): Promise<JaegerTrace | undefined>;
  /** Searches until `done(traces)` holds; resolves with those traces. */
  waitForTraces(
    search: TraceSearch,
    done: (traces: JaegerTrace[]) => boolean,
    options?: WaitOptions,
  ): Promise<JaegerTrace[]>;
  /** Reads the trace until it exists and `done(trace)` holds (default: it exists). */
  waitForTrace(
    traceId: string,
    done?: (trace: JaegerTrace) => boolean,
    options?: WaitOptions,
  ): Promise<JaegerTrace>;
}

/** A client of the Jaeger whose query API is at `url` (`http://127.0.0.1:16686`). */
export function jaegerQuery(url: string): JaegerQuery {
  const get = async <T>(path: string): Promise<{ status: number; data?: T }> => {
    const response = await fetch(`${url}${path}`, { signal: AbortSignal.timeout(10_000) });
    if (response.status === 404) {
      await response.body?.cancel();
      return { status: 404 };
    }
    const body = await response.json() as { data?: T; errors?: { msg: string }[] | null };
    if (!response.ok || body.errors?.length) {
      const why = body.errors?.map((e) => e.msg).join("; ") ?? response.statusText;
      throw new Error(`Jaeger ${path} answered ${response.status}: ${why}`);
    }
    return { status: response.status, ...(body.data !== undefined ? { data: body.data } : {}) };
  };
  const findTraces = async (search: TraceSearch) => {
    const params = new URLSearchParams({ service: search.service });
    if (search.operation) params.set("operation", search.operation);
    if (search.tags) params.set("tags", JSON.stringify(search.tags));
    if (search.limit) params.set("limit", String(search.limit));
    return (await get<JaegerTrace[]>(`/api/traces?${params}`)).data ?? [];
  };
  const trace = async (traceId: string) =>
    (await get<JaegerTrace[]>(`/api/traces/${encodeURIComponent(traceId)}`)).data?.[0];
  return {
    url,
    services: async () => (await get<string[]>("/api/services")).data ?? [],
    findTraces,
    trace,
    async waitForTraces(search, done, options = {}) {
      let last: JaegerTrace[] = [];
      await eventually(
        async () => done(last = await findTraces(search)),
        options.timeoutMs ?? 30_000,
        options.what ?? `traces of ${JSON.stringify(search)}`,
        {
          intervalMs: 200,
          context: () =>
            `last answer: ${summarize(last)}${options.context ? `\n${options.context()}` : ""}`,
        },
      );
      return last;
    },
    async waitForTrace(traceId, done = () => true, options = {}) {
      let last: JaegerTrace | undefined;
      await eventually(
        async () => (last = await trace(traceId)) !== undefined && done(last),
        options.timeoutMs ?? 30_000,
        options.what ?? `trace ${traceId}`,
        {
          intervalMs: 200,
          context: () =>
            `last answer: ${last ? summarize([last]) : "no such trace"}${
              options.context ? `\n${options.context()}` : ""
            }`,
        },
      );
      return last!;
    },
  };
}

/** The value of a span's tag (an OpenTelemetry attribute), or undefined. */
export function tagValue(span: JaegerSpan, key: string): unknown {
  return span.tags.find((tag) => tag.key === key)?.value;
}

/** The span's parent span id (its `CHILD_OF` reference), or undefined for a root. */
export function parentSpanId(span: JaegerSpan): string | undefined {
  return span.references.find((ref) => ref.refType === "CHILD_OF")?.spanID;
}

/** The service that sent `span`. */
export function serviceOf(trace: JaegerTrace, span: JaegerSpan): string | undefined {
  return trace.processes[span.processID]?.serviceName;
}

/** One line per trace, `service:operation` per span, for failure messages. */
export function summarize(traces: JaegerTrace[]): string {
  if (traces.length === 0) return "no traces";
  return traces.map((t) =>
    `${t.traceID}: ${t.spans.map((s) => `${serviceOf(t, s)}:${s.operationName}`).join(", ")}`
  ).join("\n");
}
