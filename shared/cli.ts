// deno-lint-ignore-file no-console
/**
 * What the workspace's launcher commands (`deno task kafka`, `deno task jaeger`) share:
 * reading a port argument, and running a command's main with a one-line error.
 *
 * @module
 */

/**
 * A TCP port given on the command line or in the environment; `name` says where, for
 * the error.
 *
 * @example
 * ```ts
 * parsePortArgument("9092", "KAFKA_PORT / --port"); // 9092
 * ```
 */
export function parsePortArgument(text: string, name: string): number {
  const port = Number(text);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`${name} must be a TCP port (1-65535), got "${text}"`);
  }
  return port;
}

/**
 * Runs a command's `main` and exits with its code; an error ends it with its message
 * on one line (and a pointer to --help for a bad option), not a stack trace.
 */
export async function runCommand(main: () => Promise<number>): Promise<never> {
  try {
    Deno.exit(await main());
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const usage = (error as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")
      ? " (see --help)"
      : "";
    console.error(message + usage);
    Deno.exit(1);
  }
}
