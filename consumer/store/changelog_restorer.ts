/**
 * Reads changelog partitions from given offsets up to given ends, for the stores of
 * partitions this worker has just been assigned.
 *
 * kafkajs has no manual partition assignment, so each restore uses a short-lived
 * consumer in a private group: it gets every changelog partition, pauses the ones
 * nobody asked for and seeks the others to their start offsets from the group-join
 * callback, before its first fetch (so it never sees a record it did not ask for),
 * and stops once every requested partition reached its end. It reads with
 * read_committed, so aborted transactions never reach a store.
 *
 * @module
 */
import type { Consumer, EachBatchPayload } from "kafkajs";
import type { ChangelogEntry } from "./sqlite_store.ts";

/** One partition to restore. */
export interface RestoreRequest<Row> {
  partition: number;
  /** First offset to read. */
  from: number;
  /** Offset (exclusive) to read up to. */
  to: number;
  /**
   * Receives the entries of one fetched batch, in offset order, and the next offset
   * to read after it. Runs synchronously, before the next batch of the partition.
   */
  apply(entries: ChangelogEntry<Row>[], nextOffset: number): void;
}

/** What a restore read for one partition. */
export interface RestoreCount {
  /** Changelog entries applied. */
  records: number;
  /** Records this version could not read (counted, skipped). */
  unreadable: number;
}

/** What the restorer needs. */
export interface RestorerDeps {
  /** A new kafkajs consumer (read_committed) in the given private group. */
  createConsumer: (groupId: string) => Consumer;
  topic: string;
  /** Prefix of the private groups' ids. */
  groupPrefix: string;
  /** A restore that reads nothing new for this long fails. */
  stallTimeoutMs: number;
}

/** Reads one changelog record back; `undefined` for one this version does not understand. */
export type ChangelogReader<Row> = (
  key: Uint8Array | string | null,
  value: Uint8Array | string | null,
) => ChangelogEntry<Row> | undefined;

/** Reads every request's range; resolves with what was read per partition. */
export async function restoreFromChangelog<Row>(
  deps: RestorerDeps,
  read: ChangelogReader<Row>,
  requests: readonly RestoreRequest<Row>[],
): Promise<Map<number, RestoreCount>> {
  const counts = new Map<number, RestoreCount>(
    requests.map((r) => [r.partition, { records: 0, unreadable: 0 }]),
  );
  const pending = new Map(requests.filter((r) => r.from < r.to).map((r) => [r.partition, r]));
  if (pending.size === 0) return counts;
  const next = new Map([...pending.values()].map((r) => [r.partition, r.from]));

  const consumer = deps.createConsumer(`${deps.groupPrefix}.${crypto.randomUUID()}`);
  let finish!: () => void;
  let fail!: (error: Error) => void;
  const done = new Promise<void>((resolve, reject) => {
    finish = resolve;
    fail = reject;
  });
  let progressAt = Date.now();
  const advance = (partition: number, nextOffset: number) => {
    const request = pending.get(partition);
    if (!request || nextOffset <= (next.get(partition) ?? 0)) return;
    next.set(partition, nextOffset);
    progressAt = Date.now();
    if (nextOffset >= request.to) {
      pending.delete(partition);
      consumer.pause([{ topic: deps.topic, partitions: [partition] }]);
      if (pending.size === 0) finish();
    }
  };

  consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
    // Runs before the member's first fetch: nothing is read from a position we did
    // not choose. Also after a rejoin, from where each partition had got to.
    const assigned = payload.memberAssignment[deps.topic] ?? [];
    consumer.pause([{ topic: deps.topic, partitions: assigned.filter((p) => !pending.has(p)) }]);
    for (const partition of pending.keys()) {
      consumer.seek({ topic: deps.topic, partition, offset: String(next.get(partition)) });
    }
  });
  // Batches of nothing but transaction markers reach only this event.
  consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
    advance(payload.partition, Number(payload.lastOffset) + 1);
  });
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    fail(new Error(`Cannot restore from ${deps.topic}: ${payload.error.message}`));
  });

  const eachBatch = ({ batch }: EachBatchPayload) => {
    const request = pending.get(batch.partition);
    if (!request) return Promise.resolve();
    const count = counts.get(batch.partition)!;
    const entries: ChangelogEntry<Row>[] = [];
    for (const message of batch.messages) {
      const offset = Number(message.offset);
      if (offset < request.from || offset >= request.to) continue;
      const entry = read(message.key, message.value);
      if (entry) {
        entries.push(entry);
      } else {
        count.unreadable++;
      }
    }
    const nextOffset = Math.min(request.to, Number(batch.lastOffset()) + 1);
    request.apply(entries, nextOffset);
    count.records += entries.length;
    return Promise.resolve();
  };

  const watchdog = setInterval(() => {
    if (Date.now() - progressAt > deps.stallTimeoutMs) {
      const where = [...pending.keys()].map((p) => `${p}@${next.get(p)}/${pending.get(p)!.to}`);
      fail(
        new Error(
          `Cannot restore from ${deps.topic}: no progress for ${deps.stallTimeoutMs} ms ` +
            `(partition@offset/end: ${where.join(", ")})`,
        ),
      );
    }
  }, Math.min(1000, deps.stallTimeoutMs));
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [deps.topic], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      partitionsConsumedConcurrently: Math.min(pending.size, 6),
      eachBatch,
    });
    await done;
    return counts;
  } finally {
    clearInterval(watchdog);
    await consumer.disconnect().catch(() => {});
  }
}
