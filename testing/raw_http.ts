/**
 * A deliberately dumb HTTP/1.1 client over a raw TCP socket, for requests `fetch` refuses
 * to send: control characters in header values, thousands of headers, invalid UTF-8,
 * bodies trickled slowly. One request per connection (`Connection: close`).
 *
 * @module
 */

/** What came back; `status` 0 when the server closed without an answer. */
export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Options of {@linkcode rawRequest}. */
export interface RawRequest {
  method?: string;
  path: string;
  /** Header lines as written (name, value), in order; duplicates allowed. */
  headers?: [string, string][];
  /** The body, sent at once or as chunks with `delayMs` between them. */
  body?: Uint8Array | Uint8Array[];
  /** Pause between body chunks (a slow client). */
  delayMs?: number;
  /** Give up after this many ms (default 30 000). */
  timeoutMs?: number;
}

const encoder = new TextEncoder();

/** Sends one request to `127.0.0.1:port` and reads the answer until the server closes. */
export async function rawRequest(port: number, request: RawRequest): Promise<RawResponse> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const timer = setTimeout(() => {
    try {
      conn.close();
    } catch { /* closed */ }
  }, request.timeoutMs ?? 30_000);
  try {
    const lines = [
      `${request.method ?? "POST"} ${request.path} HTTP/1.1`,
      `host: 127.0.0.1:${port}`,
    ];
    for (const [name, value] of request.headers ?? []) lines.push(`${name}: ${value}`);
    lines.push("connection: close", "", "");
    const reading = readAll(conn);
    try {
      await writeAll(conn, encoder.encode(lines.join("\r\n")));
      const chunks = request.body === undefined
        ? []
        : Array.isArray(request.body)
        ? request.body
        : [request.body];
      for (const chunk of chunks) {
        await writeAll(conn, chunk);
        if (request.delayMs) await new Promise((r) => setTimeout(r, request.delayMs));
      }
    } catch {
      // The server may answer (413) and close before the body is complete.
    }
    return parse(await reading);
  } finally {
    clearTimeout(timer);
    try {
      conn.close();
    } catch { /* closed */ }
  }
}

/** A chunked transfer-encoding body from pieces (each piece one chunk). */
export function chunked(pieces: Uint8Array[]): Uint8Array[] {
  const out = pieces.map((p) =>
    concat(encoder.encode(`${p.length.toString(16)}\r\n`), p, encoder.encode("\r\n"))
  );
  out.push(encoder.encode("0\r\n\r\n"));
  return out;
}

async function writeAll(conn: Deno.Conn, data: Uint8Array): Promise<void> {
  let written = 0;
  while (written < data.length) written += await conn.write(data.subarray(written));
}

async function readAll(conn: Deno.Conn): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  const buffer = new Uint8Array(64 * 1024);
  try {
    for (;;) {
      const n = await conn.read(buffer);
      if (n === null) break;
      parts.push(buffer.slice(0, n));
    }
  } catch {
    // reset by peer: keep what arrived
  }
  return concat(...parts);
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function parse(bytes: Uint8Array): RawResponse {
  const text = new TextDecoder().decode(bytes);
  const end = text.indexOf("\r\n\r\n");
  if (!text.startsWith("HTTP/1.1 ") || end < 0) return { status: 0, headers: {}, body: text };
  const [statusLine, ...headerLines] = text.slice(0, end).split("\r\n");
  const headers: Record<string, string> = {};
  for (const line of headerLines) {
    const colon = line.indexOf(":");
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  let body = text.slice(end + 4);
  if (headers["transfer-encoding"]?.includes("chunked")) body = unchunk(body);
  return { status: Number(statusLine!.split(" ")[1]), headers, body };
}

function unchunk(body: string): string {
  let out = "";
  let rest = body;
  for (;;) {
    const lineEnd = rest.indexOf("\r\n");
    if (lineEnd < 0) return out;
    const size = parseInt(rest.slice(0, lineEnd), 16);
    if (!size) return out;
    out += rest.slice(lineEnd + 2, lineEnd + 2 + size);
    rest = rest.slice(lineEnd + 2 + size + 2);
  }
}
