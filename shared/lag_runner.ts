/**
 * Runs a {@linkcode createLagMonitor} for a service that has no admin client of its
 * own (the producer): connects an admin with backoff, so a service started while
 * Kafka is down still reports lag once Kafka is reachable, and never crashes for it.
 *
 * @module
 */
import type { Kafka } from "kafkajs";
import type { Registry } from "prom-client";
import type { Logger } from "@logtape/logtape";
import { createLagMonitor } from "./lag.ts";

/** What {@linkcode runLagMonitor} needs. */
export interface LagRunnerOptions {
  kafka: Pick<Kafka, "admin">;
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
 * await using _lag = runLagMonitor({ kafka, groupId, topics, registry, intervalMs, logger });
 * ```
 */
export function runLagMonitor(options: LagRunnerOptions): AsyncDisposable {
  const admin = options.kafka.admin();
  const monitor = createLagMonitor({ ...options, admin });
  const maxBackoffMs = options.maxBackoffMs ?? 30_000;
  let stopped = false;
  let wake: (() => void) | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;

  const connecting = (async () => {
    for (let attempt = 0; !stopped; attempt++) {
      try {
        await admin.connect();
        if (stopped) return;
        monitor.start();
        options.logger.info("Lag monitor started for group {group}", { group: options.groupId });
        return;
      } catch (error) {
        const delay = Math.min(maxBackoffMs, 1000 * 2 ** attempt);
        options.logger.warn("Lag monitor cannot reach Kafka, retrying in {delay} ms", {
          delay,
          error,
        });
        await new Promise<void>((resolve) => {
          wake = resolve;
          timer = setTimeout(resolve, delay);
        });
      }
    }
  })();

  return {
    async [Symbol.asyncDispose]() {
      stopped = true;
      clearTimeout(timer);
      wake?.();
      await connecting;
      await monitor.stop();
      await admin.disconnect();
    },
  };
}
