// deno-lint-ignore-file no-console
/**
 * The life of a service process, shared by both services and the lag runner: the
 * start (`--help`, configuration resolved once, invalid configuration refused in one
 * sentence), the run until a stop signal (SIGINT, SIGTERM or SIGHUP) and the graceful
 * shutdown in reverse order of start, bounded by a deadline ({@linkcode ServiceLifecycle}),
 * and reaching Kafka with exponential backoff instead of crash-looping while it is down
 * or refuses us.
 *
 * Only a main.ts calls {@linkcode startService} and installs signal listeners
 * ({@linkcode listenForShutdown}, {@linkcode serviceLifecycle}); the other helpers take
 * what they need (an `AbortSignal`, a clock) so tests drive them.
 *
 * @module
 */
import { parseArgs } from "node:util";
import type { Logger } from "@logtape/logtape";
import { ConfigError } from "./env.ts";

/** What {@linkcode startService} decided: run with this configuration, or exit with a code. */
export type ServiceStart<T> = { config: T } | { exitCode: number };

/** Exit code of a service refused at start by its configuration. */
export const EXIT_INVALID_CONFIGURATION = 2;

/**
 * The opening of a service's main: `--help` prints `help` (exit 0); otherwise `load`
 * resolves the configuration once, and a {@linkcode ConfigError} is printed as its one
 * sentence on stderr (exit 2), never as a stack trace.
 *
 * @example
 * ```ts
 * const start = await startService(args, HELP, () => loadProducerConfig(Deno.env.toObject()));
 * if ("exitCode" in start) return start.exitCode;
 * ```
 */
export async function startService<T>(
  args: string[],
  help: string,
  load: () => T | Promise<T>,
): Promise<ServiceStart<T>> {
  const { values } = parseArgs({
    args,
    options: { help: { type: "boolean", short: "h" } },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) {
    console.log(help);
    return { exitCode: 0 };
  }
  try {
    return { config: await load() };
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(error.message);
    return { exitCode: EXIT_INVALID_CONFIGURATION };
  }
}

/**
 * The signals that ask a service to stop gracefully: Ctrl-C, what systemd, `docker stop`,
 * CI runners and `timeout` send, and a closed terminal.
 */
export const SHUTDOWN_SIGNALS: readonly Deno.Signal[] = ["SIGINT", "SIGTERM", "SIGHUP"];

/** The first shutdown signal a process receives; dispose to remove the listeners. */
export interface ShutdownRequest extends Disposable {
  /** Resolves with the first signal received. */
  readonly received: Promise<Deno.Signal>;
  /** Aborted when that signal arrives: hand it to whatever should stop waiting then. */
  readonly signal: AbortSignal;
}

/**
 * Listens for SIGINT, SIGTERM and SIGHUP (once listened for, they no longer end the
 * process by themselves: the service decides how to stop).
 *
 * @example
 * ```ts
 * using shutdown = listenForShutdown();
 * const signal = await shutdown.received; // "SIGTERM"
 * ```
 */
export function listenForShutdown(
  signals: readonly Deno.Signal[] = SHUTDOWN_SIGNALS,
): ShutdownRequest {
  const controller = new AbortController();
  const { promise: received, resolve } = Promise.withResolvers<Deno.Signal>();
  const listeners = signals.map((name) => {
    const listener = () => {
      resolve(name);
      controller.abort(name);
    };
    Deno.addSignalListener(name, listener);
    return { name, listener };
  });
  return {
    received,
    signal: controller.signal,
    [Symbol.dispose]() {
      for (const { name, listener } of listeners) Deno.removeSignalListener(name, listener);
    },
  };
}

/** Options of {@linkcode withShutdownDeadline}. */
export interface ShutdownDeadline {
  /** The graceful shutdown budget. */
  ms: number;
  /** Called when the budget runs out before the shutdown ends (main.ts logs and exits 1). */
  onExceeded: () => void;
}

/**
 * Runs a graceful shutdown, calling `onExceeded` if it outlasts its budget; the timer
 * never outlives the shutdown.
 *
 * @example
 * ```ts
 * await withShutdownDeadline({
 *   ms: config.shutdownTimeoutMs,
 *   onExceeded: () => { log.error("Shutdown took too long"); Deno.exit(1); },
 * }, async () => { await server.shutdown(); await publisher.close(); });
 * ```
 */
export async function withShutdownDeadline<T>(
  deadline: ShutdownDeadline,
  shutdown: () => Promise<T>,
): Promise<T> {
  const timer = setTimeout(deadline.onExceeded, deadline.ms);
  try {
    return await shutdown();
  } finally {
    clearTimeout(timer);
  }
}

/** Options of {@linkcode serviceLifecycle}. */
export interface LifecycleOptions {
  /** The service's main logger: the stop request, the deadline, the end. */
  logger: Pick<Logger, "info" | "error">;
  /** The graceful shutdown budget (`PRODUCER_SHUTDOWN_TIMEOUT_MS`, ...). */
  shutdownTimeoutMs: number;
  /** What stopping does, for the line logged on a signal: "finishing in-flight requests". */
  stopping: string;
  /** The last line of a clean stop: "Producer stopped". */
  stopped: string;
  /** Default {@linkcode SHUTDOWN_SIGNALS}. */
  signals?: readonly Deno.Signal[];
  /** Ends the process when the shutdown outlasts its budget (default `Deno.exit`). */
  exit?: (code: number) => void;
}

/** The run and stop of one service; see {@linkcode serviceLifecycle}. */
export interface ServiceLifecycle extends AsyncDisposable {
  /** Aborted by the first stop signal: hand it to whatever should stop waiting then. */
  readonly signal: AbortSignal;
  /**
   * Registers how to stop something just started. Steps run in reverse order of
   * registration, each awaited (last started, first stopped: the HTTP server before the
   * Kafka clients it uses), and each at most once.
   */
  defer(step: () => unknown): void;
  /**
   * Waits for a stop signal, or for `ended` when it settles with an exit code (a start
   * that cannot succeed), then runs the steps within the deadline. Resolves with the
   * exit code: 0 after a signal, `ended`'s code otherwise; 1 if a step threw.
   */
  untilStopped(ended?: Promise<number | undefined>): Promise<number>;
}

/**
 * The same life for every service: listens for the stop signals at once (a signal during
 * start is not lost), logs the one received, stops what was started in reverse order
 * within the shutdown budget (logging an error and exiting 1 past it), and logs the end.
 * Disposing it without {@linkcode ServiceLifecycle.untilStopped} (an early `return`) runs
 * the steps too, so nothing started is left open.
 *
 * @example
 * ```ts
 * await using _logging = await configureLogging(config.log, { service: "producer" });
 * await using life = serviceLifecycle({
 *   logger: log, shutdownTimeoutMs: 10_000,
 *   stopping: "finishing in-flight requests", stopped: "Producer stopped",
 * });
 * publisher.start();
 * life.defer(() => publisher.close());
 * const server = serve(options, app.fetch);
 * life.defer(() => server.shutdown());
 * return await life.untilStopped();
 * ```
 */
export function serviceLifecycle(options: LifecycleOptions): ServiceLifecycle {
  const shutdown = listenForShutdown(options.signals);
  const steps: (() => unknown)[] = [];
  const exit = options.exit ?? ((code: number) => Deno.exit(code));
  let stopped: Promise<boolean> | undefined;

  // Whether every step ended without throwing; a failed step is logged and the rest
  // still run, so one stuck client does not keep the others open.
  const stopAll = () =>
    stopped ??= (async () => {
      let clean = true;
      for (let step = steps.pop(); step; step = steps.pop()) {
        try {
          await step();
        } catch (error) {
          clean = false;
          options.logger.error("Shutdown step failed: {error}", { error });
        }
      }
      return clean;
    })();

  return {
    signal: shutdown.signal,
    defer: (step) => void steps.push(step),
    async untilStopped(ended) {
      const first = await Promise.race<Deno.Signal | number>([
        shutdown.received,
        ...(ended
          ? [
            ended.then((code): Promise<Deno.Signal | number> | number => code ?? shutdown.received),
          ]
          : []),
      ]);
      const code = typeof first === "number" ? first : 0;
      if (typeof first === "string") {
        options.logger.info("Received {signal}: {stopping}", {
          signal: first,
          stopping: options.stopping,
        });
      }
      const clean = await withShutdownDeadline({
        ms: options.shutdownTimeoutMs,
        onExceeded: () => {
          options.logger.error("Shutdown exceeded {ms} ms; exiting now", {
            ms: options.shutdownTimeoutMs,
          });
          exit(1);
        },
      }, stopAll);
      if (code === 0 && clean) options.logger.info(options.stopped);
      return clean ? code : 1;
    },
    async [Symbol.asyncDispose]() {
      await stopAll();
      shutdown[Symbol.dispose]();
    },
  };
}

/** How {@linkcode retryWithBackoff} ended. */
export type RetryOutcome<T> =
  | { state: "done"; value: T }
  | { state: "stopped" }
  | { state: "refused"; error: unknown };

/** Options of {@linkcode retryWithBackoff}. */
export interface RetryOptions<T> {
  /** One try (connect, start...). */
  attempt: () => Promise<T>;
  /** No new try once aborted, and a wait between tries ends at once. */
  signal: AbortSignal;
  /** Longest wait between tries; the wait starts at `initialBackoffMs` and doubles. */
  maxBackoffMs: number;
  /** Default 1000 ms. */
  initialBackoffMs?: number;
  /** Undoes what a failed try left behind, before anything else happens. */
  cleanUp?: (error: unknown) => Promise<void>;
  /** A failure that retrying cannot fix: ends with `refused` instead of a wait. */
  isFinal?: (error: unknown) => boolean;
  /** Told of each failure that will be retried, with the wait before the next try. */
  onRetry: (error: unknown, delayMs: number) => void;
  /** Waits `ms` or until `signal` aborts (tests pass their own clock). */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

/** Resolves after `ms`, or at once when `signal` aborts; leaves no timer behind. */
export function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}

/**
 * Tries `attempt` until it succeeds, waiting 1 s, 2 s, 4 s ... (at most
 * `maxBackoffMs`) between tries. Ends `done` with the attempt's value, `stopped` once
 * `signal` aborted (a try that succeeds after the abort counts as stopped: the caller's
 * shutdown undoes it), or `refused` for a failure `isFinal` says cannot pass.
 *
 * @example
 * ```ts
 * const outcome = await retryWithBackoff({
 *   attempt: () => admin.connect(),
 *   signal: shutdown.signal,
 *   maxBackoffMs: 30_000,
 *   onRetry: (error, delay) => log.warn("Cannot reach Kafka, retrying in {delay} ms", { delay, error }),
 * });
 * ```
 */
export async function retryWithBackoff<T>(options: RetryOptions<T>): Promise<RetryOutcome<T>> {
  const { signal } = options;
  const sleep = options.sleep ?? abortableSleep;
  const initial = options.initialBackoffMs ?? 1000;
  for (let attempt = 0; !signal.aborted; attempt++) {
    try {
      const value = await options.attempt();
      return signal.aborted ? { state: "stopped" } : { state: "done", value };
    } catch (error) {
      await options.cleanUp?.(error);
      if (options.isFinal?.(error)) return { state: "refused", error };
      if (signal.aborted) return { state: "stopped" };
      const delay = Math.min(options.maxBackoffMs, initial * 2 ** attempt);
      options.onRetry(error, delay);
      await sleep(delay, signal);
    }
  }
  return { state: "stopped" };
}
