/**
 * Forgets what the task stores hold past the retention, on a timer, in slices: one
 * bounded DELETE at a time with the event loop free in between, so a purge after a
 * long quiet spell never holds up heartbeats or batches.
 *
 * @module
 */
import type { Logger } from "@logtape/logtape";
import type { ConsumerMetrics } from "../metrics.ts";
import { PURGE_BATCH } from "../store/sqlite_store.ts";
import type { Task } from "./task.ts";
import { taskName } from "./task_kinds.ts";

/** What the purger needs. */
export interface PurgerDeps {
  /** The tasks whose stores to purge, read at each round. */
  tasks: () => Task[];
  intervalMs: number;
  metrics: Pick<ConsumerMetrics, "stateEntries">;
  logger: Logger;
  now: () => number;
}

/** Starts and stops the purge rounds. */
export interface Purger {
  start(): void;
  stop(): void;
  /** One round over every task's store (what the timer runs). */
  round(): Promise<void>;
}

const yieldToEventLoop = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/** Creates the purger; nothing runs until `start()`. */
export function createPurger(deps: PurgerDeps): Purger {
  let timer: ReturnType<typeof setInterval> | undefined;
  let running: Promise<void> | undefined;

  async function purgeTask(task: Task) {
    let purged = 0;
    for (;;) {
      const n = task.store.purge(deps.now(), PURGE_BATCH);
      purged += n;
      if (n < PURGE_BATCH) break;
      await yieldToEventLoop();
    }
    if (purged === 0) return;
    deps.metrics.stateEntries.labels(task.id.kind, String(task.id.partition)).set(
      task.store.entries,
    );
    deps.logger.debug("Task {task} forgot {purged} rows past the retention", {
      task: taskName(task.id),
      purged,
    });
  }

  async function round() {
    for (const task of deps.tasks()) {
      try {
        await purgeTask(task);
      } catch (error) {
        // The store may have closed meanwhile (the task moved away).
        deps.logger.warn("Cannot purge the store of {task}: {error}", {
          task: taskName(task.id),
          error,
        });
      }
      await yieldToEventLoop();
    }
  }

  return {
    start() {
      timer ??= setInterval(() => {
        running ??= round().finally(() => running = undefined);
      }, deps.intervalMs);
    },
    stop() {
      if (timer !== undefined) clearInterval(timer);
      timer = undefined;
    },
    round,
  };
}
