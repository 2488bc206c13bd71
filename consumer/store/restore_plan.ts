/**
 * What a partition's restore has to read: pure arithmetic on the store's checkpoint
 * and the changelog partition's offsets, taken after this worker fenced the
 * partition's previous owner (so nobody else writes it any more).
 *
 * @module
 */

/** The changelog partition's offsets: earliest kept, and the end. */
export interface ChangelogOffsets {
  low: number;
  high: number;
}

/** What the store says about itself. */
export interface StoreCheckpoint {
  /** Next changelog offset the store has not applied. */
  changelogOffset: number;
  /** Decisions it holds. */
  entries: number;
}

/** How a partition is restored. */
export interface RestorePlan {
  /**
   * `checkpoint`: the store is read on from its checkpoint; `rebuild`: the store is
   * empty (new machine, lost or unusable file) and is built from the compacted
   * changelog alone; `reset`: the store claims more than the changelog holds (the
   * topic was recreated) and is emptied, then rebuilt.
   */
  kind: "checkpoint" | "rebuild" | "reset";
  /** First changelog offset to read. */
  from: number;
  /** Offset (exclusive) up to which the store must have read before processing. */
  to: number;
  /** Why, in words, for the log line. */
  reason: string;
}

/**
 * Plans the restore of one partition.
 *
 * @example
 * ```ts
 * planRestore({ changelogOffset: 120, entries: 100 }, { low: 0, high: 150 });
 * // { kind: "checkpoint", from: 120, to: 150, reason: "..." }
 * ```
 */
export function planRestore(store: StoreCheckpoint, log: ChangelogOffsets): RestorePlan {
  const { low, high } = log;
  if (store.changelogOffset > high) {
    return {
      kind: "reset",
      from: low,
      to: high,
      reason:
        `the store's checkpoint ${store.changelogOffset} is past the changelog's end ${high} ` +
        `(the topic was recreated): rebuilding from the changelog`,
    };
  }
  if (store.changelogOffset === 0 && store.entries === 0) {
    return {
      kind: "rebuild",
      from: low,
      to: high,
      reason: "no local state: rebuilding from the changelog",
    };
  }
  // Records below the log start were deleted by retention: older than anything kept.
  const from = Math.max(store.changelogOffset, low);
  return {
    kind: "checkpoint",
    from,
    to: high,
    reason: `reading the changelog from the checkpoint ${store.changelogOffset}`,
  };
}
