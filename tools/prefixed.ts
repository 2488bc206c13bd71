/**
 * The output of `deno task dev`: several processes share one stdout. In pretty mode
 * each line gets a short `[service]` prefix; in JSON mode every line is one JSON object
 * with a `service` field (the services' own JSON lines pass through, anything else a
 * process prints is wrapped), so the whole stream is JSON Lines for `jq`.
 *
 * @module
 */

/** Calls `onLine` for each line of `stream` (the last one even without a newline). */
export async function forEachLine(
  stream: ReadableStream<Uint8Array>,
  onLine: (line: string) => void,
): Promise<void> {
  let pending = "";
  for await (const text of stream.pipeThrough(new TextDecoderStream())) {
    pending += text;
    const lines = pending.split("\n");
    pending = lines.pop() ?? "";
    for (const line of lines) onLine(line);
  }
  if (pending) onLine(pending);
}

/** Where a line came from: decides the level of a wrapped line in JSON mode. */
export type Origin = "stdout" | "stderr";

/** Options of {@linkcode createDevOutput}. */
export interface DevOutputOptions {
  /** JSON Lines instead of prefixed text. */
  json: boolean;
  /** Writes text to the real stdout. */
  write: (text: string) => void;
  /** Clock for wrapped lines (tests fix it). */
  now?: () => Date;
}

/** The shared output of `deno task dev`. */
export interface DevOutput {
  /** One line a process printed. */
  line(service: string, text: string, origin: Origin): void;
  /** Copies every line of a process's stream; resolves when the stream ends. */
  pipe(
    stream: ReadableStream<Uint8Array>,
    service: string,
    origin: Origin,
    onLine?: (text: string) => void,
  ): Promise<void>;
  /** A line of `deno task dev` itself. */
  say(message: string, fields?: Record<string, unknown>): void;
}

const PREFIX_WIDTH = "[prometheus] ".length;
// deno-lint-ignore no-control-regex -- ANSI colour sequences, stripped from wrapped lines
const ANSI = /\x1b\[[0-9;]*m/g;
const LOGFMT_LEVEL = /(?:^|\s)level=(debug|info|warn|warning|error|fatal)\b/;

function levelOfPlainLine(text: string, origin: Origin): string {
  const logfmt = LOGFMT_LEVEL.exec(text)?.[1];
  if (logfmt) return logfmt === "warn" ? "warning" : logfmt;
  // Deno's --watch reports restarts on stderr; they are news, not errors.
  if (origin === "stdout" || text.startsWith("Watcher ")) return "info";
  return "error";
}

function asJsonObject(text: string): Record<string, unknown> | undefined {
  if (!text.startsWith("{")) return undefined;
  try {
    const value = JSON.parse(text);
    return typeof value === "object" && value !== null && !Array.isArray(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The output for the mode asked for. Blank lines (colour codes alone count as blank) are
 * dropped in both modes: a process that ends with an empty line would otherwise print a
 * prefix alone.
 *
 * @example
 * ```ts
 * const output = createDevOutput({ json: false, write: (t) => Deno.stdout.writeSync(enc(t)) });
 * output.line("producer", "ready", "stdout"); // "[producer]   ready\n"
 * ```
 */
export function createDevOutput(options: DevOutputOptions): DevOutput {
  const now = options.now ?? (() => new Date());
  const wrap = (service: string, level: string, logger: string, message: string, fields = {}) =>
    JSON.stringify({
      timestamp: now().toISOString(),
      level,
      service,
      logger,
      message,
      ...fields,
    }) + "\n";

  const line = (service: string, text: string, origin: Origin) => {
    // A line of colour codes alone (a process reset its colours on a signal) is blank too.
    if (text.replace(ANSI, "").trim() === "") return;
    if (!options.json) {
      options.write(`${`[${service}]`.padEnd(PREFIX_WIDTH)}${text}\n`);
      return;
    }
    const record = asJsonObject(text);
    if (record) {
      // A service's own line already names it; keep the line byte for byte.
      options.write(record.service ? `${text}\n` : `${JSON.stringify({ ...record, service })}\n`);
      return;
    }
    const plain = text.replace(ANSI, "");
    options.write(wrap(service, levelOfPlainLine(plain, origin), origin, plain));
  };

  return {
    line,
    pipe: (stream, service, origin, onLine) =>
      forEachLine(stream, (text) => {
        line(service, text, origin);
        onLine?.(text);
      }),
    say(message, fields = {}) {
      if (options.json) options.write(wrap("dev", "info", "dev", message, fields));
      else options.write(`${message}\n`);
    },
  };
}
