/**
 * Copies a child's output to ours line by line with a short prefix, so several
 * services can share one terminal and stay readable.
 *
 * @module
 */

/** Writes each complete line of `stream` as `prefix + line` through `write`. */
export async function pipePrefixed(
  stream: ReadableStream<Uint8Array>,
  prefix: string,
  write: (text: string) => void,
): Promise<void> {
  let pending = "";
  for await (const text of stream.pipeThrough(new TextDecoderStream())) {
    pending += text;
    const lines = pending.split("\n");
    pending = lines.pop() ?? "";
    for (const line of lines) write(`${prefix}${line}\n`);
  }
  if (pending) write(`${prefix}${pending}\n`);
}
