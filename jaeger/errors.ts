/**
 * The one error type of the local Jaeger: building it, starting it, stopping it.
 *
 * @module
 */

/** Why the local Jaeger could not be built or started. */
export class JaegerError extends Error {
  /** True when trying again may succeed (a port in use, a slow start). */
  readonly retriable: boolean;

  /** Creates the error; `message` says what failed and how to fix it. */
  constructor(message: string, options: { retriable?: boolean; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = "JaegerError";
    this.retriable = options.retriable ?? false;
  }
}
