/**
 * Runs a {@linkcode createLagMonitor} for a service whose admin client has nothing
 * else to wait for (the producer): connects the admin it is given with backoff, so a
 * service started while Kafka is down still reports lag once Kafka is reachable, and
 * never crashes for it.
 *
 * @module
 */
import type { Admin } from "kafkajs";
import type { Registry } from "prom-client";
import type { Logger } from "@logtape/logtape";
import { retryWithBackoff } from "@payments/shared/lifecycle";
import { createLagMonitor, type LagAdmin } from "./monitor.ts";

/** What {@linkcode runLagMonitor} needs. */
export interface LagRunnerOptions {
  /** A new, unconnected admin client: the runner connects it and disconnects it on dispose. */
  admin: LagAdmin & Pick<Admin, "connect" | "disconnect">;
  groupId: string;
  topics: string[];
  registry: Registry;
  intervalMs: number;
  logger: Logger;
  /** Longest wait between connection attempts; default 30 s. */
  maxBackoffMs?: number;
}

/**
 * Starts monitoring in the background; dispose to stop it and disconnect.
 *
 * @example
 * ```ts
 * await using _lag = runLagMonitor({
 *   admin: kafka.admin(), groupId, topics, registry, intervalMs, logger,
 * });
 * ```
 */
export function runLagMonitor(options: LagRunnerOptions): AsyncDisposable {
  const { admin, logger } = options;
  const monitor = createLagMonitor(options);
  const stop = new AbortController();

  const connecting = retryWithBackoff({
    attempt: () => admin.connect(),
    signal: stop.signal,
    maxBackoffMs: options.maxBackoffMs ?? 30_000,
    onRetry: (error, delay) =>
      logger.warn("Lag monitor cannot reach Kafka, retrying in {delay} ms", { delay, error }),
  }).then((outcome) => {
    if (outcome.state !== "done") return;
    monitor.start();
    logger.info("Lag monitor started for group {group}", { group: options.groupId });
  });

  return {
    async [Symbol.asyncDispose]() {
      stop.abort();
      await connecting;
      await monitor.stop();
      await admin.disconnect();
    },
  };
}
