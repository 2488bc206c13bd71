/**
 * W3C Trace Context (`traceparent`) for the pipeline: parse and validate an
 * incoming header, continue its trace with a new span, or start a new trace.
 * See https://www.w3.org/TR/trace-context/#traceparent-header.
 *
 * @module
 */

/** One span's position in a trace, as carried by a `traceparent` header. */
export interface TraceContext {
  /** 32 lower-case hex digits, never all zero. */
  traceId: string;
  /** 16 lower-case hex digits, never all zero: this span's id. */
  spanId: string;
  /** Trace flags as 2 hex digits (`01` = sampled). */
  flags: string;
  /** The span this one continues, when the trace came from a caller. */
  parentSpanId?: string;
}

const VERSION_00 = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
// A later version may append fields after the first four; only the prefix is read.
const FUTURE_VERSION = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const ALL_ZERO = /^0+$/;

/**
 * Parses a `traceparent` header. Returns `undefined` for anything the spec says
 * to ignore: wrong shape, upper-case hex, all-zero ids, version `ff`, or extra
 * fields on version `00`.
 *
 * @example
 * ```ts
 * parseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
 * // { traceId: "4bf9...", spanId: "00f0...", flags: "01" }
 * ```
 */
export function parseTraceparent(header: string | null | undefined): TraceContext | undefined {
  if (typeof header !== "string") return undefined;
  const value = header.trim();
  const match = value.startsWith("00-") ? VERSION_00.exec(value) : FUTURE_VERSION.exec(value);
  if (!match) return undefined;
  if (!value.startsWith("00-") && match[1] === "ff") return undefined;
  const [traceId, spanId, flags] = value.startsWith("00-")
    ? [match[1]!, match[2]!, match[3]!]
    : [match[2]!, match[3]!, match[4]!];
  if (ALL_ZERO.test(traceId) || ALL_ZERO.test(spanId)) return undefined;
  return { traceId, spanId, flags };
}

/** Renders a context as a version-00 `traceparent` header value. */
export function formatTraceparent(context: TraceContext): string {
  return `00-${context.traceId}-${context.spanId}-${context.flags}`;
}

function randomHex(bytes: number): string {
  for (;;) {
    const buffer = crypto.getRandomValues(new Uint8Array(bytes));
    // All-zero ids are invalid; the chance is negligible but the loop makes it impossible.
    if (buffer.some((byte) => byte !== 0)) {
      return Array.from(buffer, (byte) => byte.toString(16).padStart(2, "0")).join("");
    }
  }
}

/**
 * A new span: continues the trace of a valid incoming `traceparent` (same trace
 * id and flags, new span id, the caller's span as parent), or starts a new
 * sampled trace when the header is missing or invalid.
 *
 * @example
 * ```ts
 * const span = continueTrace(request.headers.get("traceparent"));
 * headers.set("traceparent", formatTraceparent(span));
 * ```
 */
export function continueTrace(header?: string | null): TraceContext {
  const parent = parseTraceparent(header);
  if (!parent) return startTrace();
  return {
    traceId: parent.traceId,
    spanId: randomHex(8),
    flags: parent.flags,
    parentSpanId: parent.spanId,
  };
}

/** A new sampled trace with a random trace id and span id. */
export function startTrace(): TraceContext {
  return { traceId: randomHex(16), spanId: randomHex(8), flags: "01" };
}
