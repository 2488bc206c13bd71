/**
 * The task manager (Kafka Streams' TaskManager): the tasks of the partitions this
 * worker is assigned, from assignment to release. New tasks of a kind are prepared
 * together (`task_preparation.ts`: fence, store, changelog) and only then handed to the
 * batch loop; a released task closes, and its store may be kept as a standby. Stores
 * forget what is past the retention on a timer (`purger.ts`).
 *
 * @module
 */
import type { TaskStore } from "../store/sqlite_store.ts";
import { createPurger, type Purger } from "./purger.ts";
import type { Standbys } from "./standbys.ts";
import { storeFile } from "./store_files.ts";
import type { Task, TaskId } from "./task.ts";
import { type TaskKind, type TaskKinds, taskName } from "./task_kinds.ts";
import { type PreparationDeps, prepareTasks, transactionalIdFor } from "./task_preparation.ts";

export { storeFile, transactionalIdFor };

/** What the task manager needs. */
export interface TaskManagerDeps extends Omit<PreparationDeps, "now" | "standbys"> {
  kinds: TaskKinds;
  /**
   * The standby stores of this instance: a task becoming active takes its standby's
   * warm store over; a task closing here may be kept as a standby.
   */
  standbys?: Pick<Standbys, "take" | "released">;
  /** How often stores forget rows past the retention. */
  purgeIntervalMs?: number;
  now?: () => number;
}

/** Where one assigned task stands. */
export interface TaskState {
  id: TaskId;
  state: "restoring" | "running" | "failed";
}

const idOf = (name: string): TaskId => {
  const [kind, partition] = name.split("-") as [TaskId["kind"], string];
  return { kind, partition: Number(partition) };
};

/** The tasks of the assigned partitions. */
export class TaskManager {
  readonly #deps: TaskManagerDeps & { now: () => number };
  /** Every task being prepared or prepared, by name. */
  readonly #entries = new Map<string, Promise<Task>>();
  /** The prepared ones. */
  readonly #opened = new Map<string, Task>();
  /** Those whose last preparation failed (retried by their next batch). */
  readonly #failed = new Set<string>();
  readonly #purger: Purger;

  constructor(deps: TaskManagerDeps) {
    this.#deps = { ...deps, now: deps.now ?? Date.now };
    this.#purger = createPurger({
      tasks: () => [...this.#opened.values()],
      intervalMs: deps.purgeIntervalMs ?? 60_000,
      metrics: deps.metrics,
      logger: deps.logger,
      now: this.#deps.now,
    });
  }

  /** Starts preparing newly assigned tasks, those of a kind together. */
  prepare(ids: readonly TaskId[]): void {
    for (const kind of Object.values(this.#deps.kinds) as TaskKind[]) {
      const fresh = ids.filter((id) => id.kind === kind.name && !this.#entries.has(taskName(id)));
      if (fresh.length > 0) this.#track(fresh, prepareTasks(this.#deps, kind, fresh));
    }
  }

  #track(ids: TaskId[], job: Promise<Map<string, Task>>) {
    for (const id of ids) {
      const name = taskName(id);
      this.#failed.delete(name);
      const entry = job.then((tasks) => {
        const task = tasks.get(name)!;
        this.#opened.set(name, task);
        this.#purger.start();
        return task;
      });
      this.#entries.set(name, entry);
      entry.catch(() => {
        if (this.#entries.get(name) !== entry) return;
        this.#entries.delete(name);
        this.#failed.add(name);
      });
    }
  }

  /** The task, once prepared (preparing it now if nobody asked yet); rejects if that failed. */
  ready(id: TaskId): Promise<Task> {
    if (!this.#entries.has(taskName(id))) this.prepare([id]);
    return this.#entries.get(taskName(id))!;
  }

  /** Gives a task up: it closes (producer disconnected, store closed). */
  async release(id: TaskId, revoked: boolean): Promise<void> {
    const name = taskName(id);
    const entry = this.#entries.get(name);
    this.#entries.delete(name);
    this.#opened.delete(name);
    this.#failed.delete(name);
    this.#deps.kinds[id.kind].processor.forget?.(id.partition);
    if (this.#opened.size === 0) this.#purger.stop();
    if (revoked) this.#deps.metrics.stateEntries.remove(id.kind, String(id.partition));
    if (!entry) return;
    try {
      await (await entry).close();
    } catch {
      // Preparation failed or the producer is already gone: nothing to release.
    }
    await this.#deps.standbys?.released(id);
  }

  async releaseAll(): Promise<void> {
    const names = [...this.#entries.keys(), ...this.#failed];
    await Promise.all(names.map((name) => this.release(idOf(name), false)));
    this.#purger.stop();
  }

  /** Releases every task and ends the store checks' thread (the worker stopped). */
  async close(): Promise<void> {
    await this.releaseAll();
    this.#deps.checker.close();
  }

  /** Every task being prepared or prepared, and how it stands. */
  states(): TaskState[] {
    return [...new Set([...this.#entries.keys(), ...this.#failed])].map((name) => ({
      id: idOf(name),
      state: this.#opened.has(name) ? "running" : this.#failed.has(name) ? "failed" : "restoring",
    }));
  }

  /** Whether the task is being prepared or runs here (its store is the task's). */
  isActive(id: TaskId): boolean {
    return this.#entries.has(taskName(id));
  }

  /** The store of a running task, for reads. */
  store(id: TaskId): TaskStore<unknown> | undefined {
    return this.#opened.get(taskName(id))?.store as TaskStore<unknown> | undefined;
  }
}

/** Creates the task manager; nothing happens until `prepare` or `ready`. */
export function createTaskManager(deps: TaskManagerDeps): TaskManager {
  return new TaskManager(deps);
}
