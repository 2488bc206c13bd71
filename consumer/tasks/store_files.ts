/**
 * Where task stores live (`<state dir>/<group>/<input topic>-<partition>.sqlite`, one
 * folder per consumer group) and how one is opened for a task: a file found unusable
 * is moved aside, logged once at warn with the file and the reason, counted, and the
 * store rebuilt from the changelog.
 *
 * @module
 */
import type { Logger } from "@logtape/logtape";
import type { ConsumerMetrics } from "../metrics.ts";
import type { TaskStore } from "../store/sqlite_store.ts";
import type { StoreChecker } from "../store/store_check.ts";
import { noTasks, TASK_KINDS, type TaskPartitions } from "@payments/shared/task_group";
import type { TaskKind, TaskKinds } from "./task_kinds.ts";

/** File of a task's store: one folder per consumer group, named by the task's input topic. */
export function storeFile(stateDir: string, groupId: string, topic: string, partition: number) {
  const safe = (name: string) => encodeURIComponent(name);
  return `${stateDir}/${safe(groupId)}/${safe(topic)}-${partition}.sqlite`;
}

/** What opening a task's store needs. */
export interface OpenTaskStoreOptions {
  stateDir: string;
  groupId: string;
  partition: number;
  retentionMs: number;
  metrics: Pick<ConsumerMetrics, "errors">;
  logger: Logger;
  /** Checks the file off the event loop first (`store/store_check.ts`). */
  checker: StoreChecker;
}

/**
 * Opens the store of `kind`'s task on `partition`, checked off the event loop first,
 * moving an unusable file aside (and saying so).
 */
export async function openTaskStore(
  kind: TaskKind,
  options: OpenTaskStoreOptions,
): Promise<TaskStore<unknown>> {
  const file = storeFile(options.stateDir, options.groupId, kind.inputTopic, options.partition);
  const checked = await options.checker.check(file, kind.storeTable);
  const { store, movedAside } = kind.openStore({
    file,
    changelogTopic: kind.changelogTopic,
    partition: options.partition,
    retentionMs: options.retentionMs,
  }, checked);
  if (movedAside) {
    options.metrics.errors.labels("state_store").inc();
    options.logger.warn(
      "State store {file} could not be used ({reason}): moved to {moved_to}, rebuilding from {changelog}",
      {
        file,
        reason: movedAside.reason,
        moved_to: movedAside.to,
        changelog: kind.changelogTopic,
      },
    );
  }
  return store as TaskStore<unknown>;
}

/**
 * The tasks whose store files this instance has on disk (from an earlier run, or kept
 * as standbys): told to the group when it joins, so a restarted instance gets them
 * back and a moved task goes where its store is warm.
 */
export function localStores(
  stateDir: string,
  groupId: string,
  kinds: TaskKinds,
): TaskPartitions {
  const found = noTasks();
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync(`${stateDir}/${encodeURIComponent(groupId)}`)];
  } catch {
    return found;
  }
  for (const kind of TASK_KINDS) {
    const prefix = `${encodeURIComponent(kinds[kind].inputTopic)}-`;
    for (const { name, isFile } of entries) {
      const match = isFile && name.startsWith(prefix)
        ? /^(\d+)\.sqlite$/.exec(name.slice(prefix.length))
        : null;
      if (match) found[kind].push(Number(match[1]));
    }
    found[kind].sort((a, b) => a - b);
  }
  return found;
}
