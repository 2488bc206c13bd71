/**
 * The one error type of the local broker launcher.
 *
 * @module
 */

/** Why the local Kafka broker could not be set up, started or stopped. */
export class KafkaLauncherError extends Error {
  /** True when trying again later may succeed (a broker slow to start, a port in use). */
  readonly retriable: boolean;

  /** Creates the error; `message` is one sentence saying what failed and how to fix it. */
  constructor(message: string, options: { retriable?: boolean; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = "KafkaLauncherError";
    this.retriable = options.retriable ?? false;
  }
}
