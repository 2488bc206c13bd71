/**
 * LogTape set-up shared by the services: JSON Lines (or pretty text) on stdout,
 * an optional rotating file, implicit contexts so a `withContext({
 * correlation_id })` block stamps every line logged inside it, and the trace and span
 * ids of the OpenTelemetry span active when a line is logged ({@linkcode withTraceIds}).
 *
 * @module
 */
import { AsyncLocalStorage } from "node:async_hooks";
import {
  configure,
  dispose,
  type FormattedValues,
  getAnsiColorFormatter,
  getStreamSink,
  getTextFormatter,
  type LogRecord,
  sanitizeControlSequences,
  type Sink,
  type TextFormatter,
  type TextFormatterOptions,
} from "@logtape/logtape";
import { getRotatingFileSink } from "@logtape/file";
import type { LogSettings } from "./config.ts";
import { activeTraceIds } from "./tracing.ts";

/** Size of one rotating log file before it rolls over (the lab's 10 MB). */
export const LOG_FILE_MAX_BYTES = 10 * 1024 * 1024;
/** Rotated log files kept (the lab's 5). */
export const LOG_FILE_COUNT = 5;

function renderMessage(parts: readonly unknown[]): string {
  return parts.map((part, index) =>
    index % 2 === 0 ? String(part) : typeof part === "string" ? part : JSON.stringify(part)
  ).join("");
}

function errorFields(value: unknown): unknown {
  if (!(value instanceof Error)) return value;
  return { name: value.name, message: value.message };
}

/**
 * One JSON object per line: `timestamp, level, service, logger, message` first, then
 * the record's own properties (including implicit context such as `correlation_id`).
 * `service` is present when given, so the lines of several services can share a stream.
 *
 * @example
 * ```ts
 * formatJsonLine(record, "producer"); // '{"timestamp":"2026-...","level":"info","service":"producer",...}\n'
 * ```
 */
export function formatJsonLine(record: LogRecord, service?: string): string {
  const properties: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(record.properties)) {
    properties[key] = errorFields(value);
  }
  return JSON.stringify({
    timestamp: new Date(record.timestamp).toISOString(),
    level: record.level,
    ...(service ? { service } : {}),
    logger: record.category.join("."),
    message: renderMessage(record.message),
    ...properties,
  }) + "\n";
}

/** Longest rendering of one field value on a pretty line. */
const MAX_FIELD_CHARS = 120;
/** Fields a pretty line leaves to the JSON form: long, or shown another way. */
const NOT_SHOWN = new Set(["correlation_id", "trace_id", "span_id", "service"]);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * A text safe for one log line: control characters (newlines, tabs, ANSI escapes)
 * escaped, at most `max` characters.
 *
 * @example
 * ```ts
 * oneLine("/a\nb", 100); // "/a\\nb"
 * ```
 */
export function oneLine(text: string, max: number): string {
  const clipped = text.length > max ? `${text.slice(0, max)}…` : text;
  return sanitizeControlSequences(clipped, { sgr: "escape", newlines: "escape" })
    .replaceAll("\t", "\\t");
}

/** How many characters of a trace id a pretty line shows (as Jaeger's UI shows them). */
const SHORT_TRACE_ID = 8;

/** The correlation id as a person scans it: a UUID's first 8 characters, others bounded. */
export function shortCorrelationId(id: string): string {
  return UUID.test(id) ? id.slice(0, 8) : oneLine(id, 24);
}

function fieldValue(value: unknown): string {
  const text = value instanceof Error
    ? `${value.name}: ${value.message}`
    : typeof value === "string"
    ? value
    : JSON.stringify(value) ?? String(value);
  const safe = oneLine(text, MAX_FIELD_CHARS);
  const textual = typeof value === "string" || value instanceof Error;
  // Text is quoted when it would not read as one token (JSON values read as they are);
  // oneLine already escaped control characters.
  return textual && !/^[^\s"=]+$/.test(safe) ? `"${safe.replaceAll('"', '\\"')}"` : safe;
}

/** Property names a message template already shows (`{payment_id}` and the like). */
function templateNames(record: LogRecord): Set<string> {
  const template = typeof record.rawMessage === "string"
    ? record.rawMessage
    : record.rawMessage.join("");
  return new Set([...template.matchAll(/\{([^{}\s]+)\}/g)].map((match) => match[1]!));
}

/**
 * The fields of a pretty line: ` cid=<short correlation id> tid=<short trace id>` then
 * every property the message does not already show, as `key=value`, each bounded and on
 * one line.
 *
 * @example
 * ```ts
 * prettyFields(record); // " cid=1a2b3c4d tid=4bf92f35 partition=3 offset=17 processing_ms=0.42"
 * ```
 */
export function prettyFields(record: LogRecord): string {
  const shown = templateNames(record);
  const parts: string[] = [];
  const correlationId = record.properties.correlation_id;
  if (typeof correlationId === "string") parts.push(`cid=${shortCorrelationId(correlationId)}`);
  const traceId = record.properties.trace_id;
  if (typeof traceId === "string") {
    parts.push(`tid=${oneLine(traceId, 32).slice(0, SHORT_TRACE_ID)}`);
  }
  for (const [key, value] of Object.entries(record.properties)) {
    if (NOT_SHOWN.has(key) || shown.has(key) || value === null || value === undefined) continue;
    parts.push(`${oneLine(key, 40)}=${fieldValue(value)}`);
  }
  return parts.length > 0 ? ` ${parts.join(" ")}` : "";
}

const DIM = "\x1b[2m";
const RESET = "\x1b[0m";

/**
 * The pretty format for people: time, level, category, message, then the fields that
 * let a person follow one payment (short correlation id, ids, outcome, partition and
 * offset, durations). ANSI colours only when `color` is true.
 *
 * @example
 * ```ts
 * const format = getPrettyFormatter({ color: false });
 * format(record); // "09:12:01.123 INF producer·http: Batch 44febeb7… accepted cid=5d0c1e2a ...\n"
 * ```
 */
export function getPrettyFormatter({ color }: { color: boolean }): TextFormatter {
  const options: TextFormatterOptions = {
    timestamp: "time",
    level: "ABBR",
    // Strings as they are (no quotes), errors as one line, the rest inspected.
    value: (value, inspect) =>
      value instanceof Error
        ? oneLine(`${value.name}: ${value.message}`, MAX_FIELD_CHARS)
        : typeof value === "string"
        ? oneLine(value, 200)
        : inspect(value, { colors: false }),
    format: ({ timestamp, level, category, message, record }: FormattedValues) => {
      const fields = prettyFields(record);
      const tail = color && fields ? `${DIM}${fields}${RESET}` : fields;
      return `${timestamp} ${level} ${category}: ${message}${tail}`;
    },
  };
  return color ? getAnsiColorFormatter(options) : getTextFormatter(options);
}

/**
 * A sink that gives each record the `trace_id` and `span_id` of the OpenTelemetry span
 * active when it is logged, unless the record carries its own (a payment's span, put in
 * the implicit context by the consumer, wins over the chunk's span active around it).
 * LogTape calls sinks synchronously inside `logger.info()`, so the active span here is
 * the caller's; the formatter of a buffering sink runs later, which is why the sink is
 * wrapped and not the formatter. A line logged outside any span (or without
 * `OTEL_DENO`) is left as it is. The wrapper disposes as the inner sink does, so LogTape
 * still flushes a buffering sink (the rotating file) at `dispose()`.
 *
 * @example
 * ```ts
 * const sink = withTraceIds(getStreamSink(Deno.stdout.writable));
 * ```
 */
export function withTraceIds<S extends Sink>(inner: S): S {
  const sink: Sink = (record) => {
    if (typeof record.properties.trace_id === "string") return inner(record);
    const ids = activeTraceIds();
    inner(ids ? { ...record, properties: { ...record.properties, ...ids } } : record);
  };
  const disposers = inner as unknown as Partial<Record<symbol, () => unknown>>;
  for (const key of [Symbol.dispose, Symbol.asyncDispose]) {
    const dispose = disposers[key];
    if (dispose) Object.assign(sink, { [key]: dispose.bind(inner) });
  }
  return sink as S;
}

/** Options for {@linkcode configureLogging}. */
export interface LoggingOptions {
  /** The service's name, written as the `service` field of every JSON line. */
  service?: string;
  /** Extra sink (tests collect records with it). */
  extraSink?: Sink;
  /** Replace stdout (tests that only want `extraSink`). */
  stdout?: boolean;
  /**
   * Colour the pretty format (default: unless `NO_COLOR` is set, which Deno reports
   * as `Deno.noColor`; `deno task dev` sets it when its output is not a terminal).
   */
  color?: boolean;
}

/**
 * Configures LogTape for a service. Returns an async disposable that flushes
 * buffered sinks (the rotating file buffers); call it before exit.
 *
 * @example
 * ```ts
 * await using _logging = await configureLogging(config.log, { service: "producer" });
 * getLogger(["producer"]).info("started", { port: 8000 });
 * ```
 */
export async function configureLogging(
  settings: LogSettings,
  options: LoggingOptions = {},
): Promise<AsyncDisposable> {
  const sinks: Record<string, Sink> = {};
  const json = (record: LogRecord) => formatJsonLine(record, options.service);
  if (options.stdout !== false) {
    const formatter = settings.format === "pretty"
      ? getPrettyFormatter({ color: options.color ?? !Deno.noColor })
      : json;
    sinks.stdout = withTraceIds(getStreamSink(Deno.stdout.writable, { formatter }));
  }
  if (settings.file) {
    sinks.file = withTraceIds(getRotatingFileSink(settings.file, {
      maxSize: LOG_FILE_MAX_BYTES,
      maxFiles: LOG_FILE_COUNT,
      formatter: json,
    }));
  }
  if (options.extraSink) sinks.extra = withTraceIds(options.extraSink);
  await configure({
    reset: true,
    contextLocalStorage: new AsyncLocalStorage(),
    sinks,
    loggers: [
      { category: [], sinks: Object.keys(sinks), lowestLevel: settings.level },
      // LogTape reports its own problems here; keep them, but only warnings.
      { category: ["logtape", "meta"], sinks: Object.keys(sinks), lowestLevel: "warning" },
    ],
  });
  return { [Symbol.asyncDispose]: () => dispose() };
}
