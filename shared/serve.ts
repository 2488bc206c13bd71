/**
 * `Deno.serve` for the services, turning a port that is taken into one sentence
 * naming the variable that sets it, instead of a stack trace.
 *
 * @module
 */

/** The service could not listen; the message says which port and variable. */
export class ListenError extends Error {
  override name = "ListenError";
  /** Retrying will not help until the port is freed or changed. */
  readonly retriable = false;
}

/** Options of {@linkcode serve}. */
export interface ServeOptions {
  port: number;
  /** The environment variable that sets the port, for the error message. */
  variable: string;
  hostname?: string;
  onListen?: (address: Deno.NetAddr) => void;
}

/**
 * Serves `handler` on `options.port`; throws {@linkcode ListenError} when the port is
 * taken or not allowed.
 *
 * @example
 * ```ts
 * const server = serve({ port: 8000, variable: "PRODUCER_PORT" }, app.fetch);
 * ```
 */
export function serve(
  options: ServeOptions,
  handler: Deno.ServeHandler<Deno.NetAddr>,
): Deno.HttpServer<Deno.NetAddr> {
  try {
    return Deno.serve({
      port: options.port,
      hostname: options.hostname ?? "0.0.0.0",
      ...(options.onListen ? { onListen: options.onListen } : {}),
    }, handler);
  } catch (error) {
    if (error instanceof Deno.errors.AddrInUse || error instanceof Deno.errors.PermissionDenied) {
      const why = error instanceof Deno.errors.AddrInUse
        ? "another process is listening there"
        : "permission denied";
      throw new ListenError(
        `Cannot listen on port ${options.port} (${options.variable}): ${why}`,
        { cause: error },
      );
    }
    throw error;
  }
}
