/**
 * LogTape set-up shared by the services: JSON Lines (or pretty text) on stdout,
 * an optional rotating file, and implicit contexts so a `withContext({
 * correlation_id })` block stamps every line logged inside it.
 *
 * @module
 */
import { AsyncLocalStorage } from "node:async_hooks";
import {
  ansiColorFormatter,
  configure,
  dispose,
  getConsoleSink,
  getStreamSink,
  type LogRecord,
  type Sink,
} from "@logtape/logtape";
import { getRotatingFileSink } from "@logtape/file";
import type { LogSettings } from "./config.ts";

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
 * One JSON object per line: `timestamp, level, logger, message` first, then the
 * record's own properties (including implicit context such as `correlation_id`).
 *
 * @example
 * ```ts
 * formatJsonLine(record); // '{"timestamp":"2026-...","level":"info",...}\n'
 * ```
 */
export function formatJsonLine(record: LogRecord): string {
  const properties: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(record.properties)) {
    properties[key] = errorFields(value);
  }
  return JSON.stringify({
    timestamp: new Date(record.timestamp).toISOString(),
    level: record.level,
    logger: record.category.join("."),
    message: renderMessage(record.message),
    ...properties,
  }) + "\n";
}

/** Options for {@linkcode configureLogging}. */
export interface LoggingOptions {
  /** Extra sink (tests collect records with it). */
  extraSink?: Sink;
  /** Replace stdout (tests that only want `extraSink`). */
  stdout?: boolean;
}

/**
 * Configures LogTape for a service. Returns an async disposable that flushes
 * buffered sinks (the rotating file buffers); call it before exit.
 *
 * @example
 * ```ts
 * await using _logging = await configureLogging(config.log);
 * getLogger(["producer"]).info("started", { port: 8000 });
 * ```
 */
export async function configureLogging(
  settings: LogSettings,
  options: LoggingOptions = {},
): Promise<AsyncDisposable> {
  const sinks: Record<string, Sink> = {};
  if (options.stdout !== false) {
    sinks.stdout = settings.format === "pretty"
      ? getConsoleSink({ formatter: ansiColorFormatter })
      : getStreamSink(Deno.stdout.writable, { formatter: formatJsonLine });
  }
  if (settings.file) {
    sinks.file = getRotatingFileSink(settings.file, {
      maxSize: LOG_FILE_MAX_BYTES,
      maxFiles: LOG_FILE_COUNT,
      formatter: formatJsonLine,
    });
  }
  if (options.extraSink) sinks.extra = options.extraSink;
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
