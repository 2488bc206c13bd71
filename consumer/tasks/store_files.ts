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
import type { TaskKind } from "./task_kinds.ts";

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
}

/** Opens the store of `kind`'s task on `partition`, moving an unusable file aside (and saying so). */
export function openTaskStore(kind: TaskKind, options: OpenTaskStoreOptions): TaskStore<unknown> {
  const file = storeFile(options.stateDir, options.groupId, kind.inputTopic, options.partition);
  const { store, movedAside } = kind.openStore({
    file,
    changelogTopic: kind.changelogTopic,
    partition: options.partition,
    retentionMs: options.retentionMs,
  });
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
