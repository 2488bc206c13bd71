/**
 * Consumer lag you can trust: a monitor that reads a group's committed offsets and the
 * log-end offsets on a timer through the admin API, so lag keeps rising when every
 * consumer is stalled or dead, and a Burrow-style status per partition.
 *
 * Lag in seconds is the age of the oldest unprocessed record, measured, not
 * interpolated: for a partition with committed offset `c` below the log end, the
 * monitor finds the timestamp of record `c` from the broker's time index
 * (`record_timestamp.ts`). Lag seconds = now - that timestamp. Consequences:
 * - 0 when caught up (no record is unprocessed);
 * - no drift while producers are idle: nothing is interpolated from offset rates, the
 *   age of a waiting record simply grows with the wall clock, which is the truth;
 * - a group that rewinds to the start reports the real age of the record it is on,
 *   never an extrapolation from a rate table that does not reach that far back.
 * The search costs a handful of ListOffsets requests per partition whose committed
 * offset moved, and none while the committed offset stays put (the answer is cached).
 * The status per partition follows Burrow's rules (`partition_status.ts`); the
 * metrics are the member's own (`metrics.ts`).
 *
 * A partition without a committed offset is measured from where the group would
 * start (`noCommittedOffset`: the log start by default, as our consumers use
 * `fromBeginning`), never reported as -1.
 *
 * @module
 */
import type { Admin } from "kafkajs";
import type { Registry } from "prom-client";
import type { Logger } from "@logtape/logtape";
import { createLagMetrics, exportPartitionLag } from "./metrics.ts";
import { type LagSample, type PartitionStatus, partitionStatus } from "./partition_status.ts";
import { recordTimestamp } from "./record_timestamp.ts";

export type { LagSample, PartitionStatus } from "./partition_status.ts";

/** One partition's lag as last measured. */
export interface PartitionLag {
  topic: string;
  partition: number;
  /** The group's committed offset, or null when it has none. */
  committed: number | null;
  /** Where the group is (committed, or where it would start). */
  position: number;
  logStart: number;
  logEnd: number;
  lagMessages: number;
  lagSeconds: number;
  status: PartitionStatus;
}

/** The admin calls the monitor uses. */
export type LagAdmin = Pick<
  Admin,
  "fetchOffsets" | "fetchTopicOffsets" | "fetchTopicOffsetsByTimestamp" | "describeGroups"
>;

/** Options of {@linkcode createLagMonitor}. */
export interface LagMonitorOptions {
  admin: LagAdmin;
  groupId: string;
  topics: string[];
  /** The service's registry: the monitor registers its metrics there (`metrics.ts`). */
  registry: Registry;
  /** Poll period; default 5000 ms. */
  intervalMs?: number;
  logger: Logger;
  /** Samples the status rules look at; default 10 (50 s at the default interval). */
  windowSize?: number;
  /** Where a group without a committed offset starts; default "earliest". */
  noCommittedOffset?: "earliest" | "latest";
  now?: () => number;
}

/** A running lag monitor. */
export interface LagMonitor {
  start(): void;
  stop(): Promise<void>;
  /** Measures once now (also what the timer calls). */
  poll(): Promise<PartitionLag[]>;
  /** The last measurement. */
  snapshot(): PartitionLag[];
}

/**
 * Messages between the group's position and the log end, never negative.
 *
 * @example
 * ```ts
 * lagMessages(null, 0, 10, "earliest"); // { position: 0, lag: 10 }
 * ```
 */
export function lagMessages(
  committed: number | null,
  logStart: number,
  logEnd: number,
  noCommittedOffset: "earliest" | "latest" = "earliest",
): { position: number; lag: number } {
  let position = committed ?? (noCommittedOffset === "earliest" ? logStart : logEnd);
  // Retention may have deleted records the group never read: it resumes at log start.
  if (position < logStart) position = logStart;
  return { position, lag: Math.max(0, logEnd - position) };
}

/**
 * A lag monitor for one group: `consumer_lag_messages`, `consumer_lag_seconds` and
 * `consumer_partition_status{status}` (0/1) per `{group, topic, partition}`.
 *
 * @example
 * ```ts
 * const monitor = createLagMonitor({ admin, groupId: "payment-processor",
 *   topics: ["payment_requests"], registry, intervalMs: 5000, logger });
 * monitor.start();
 * // ... on shutdown
 * await monitor.stop();
 * ```
 */
export function createLagMonitor(options: LagMonitorOptions): LagMonitor {
  const { admin, groupId, topics, registry } = options;
  const intervalMs = options.intervalMs ?? 5000;
  const windowSize = options.windowSize ?? 10;
  const policy = options.noCommittedOffset ?? "earliest";
  const now = options.now ?? Date.now;
  const logger = options.logger;
  const metrics = createLagMetrics(registry);
  metrics.errors.labels(groupId).inc(0);

  const samples = new Map<string, LagSample[]>();
  const timestamps = new Map<string, { offset: number; timestamp: number }>();
  let last: PartitionLag[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  let running: Promise<unknown> | undefined;
  let stopped = true;

  async function ageSeconds(topic: string, partition: number, offset: number, at: number) {
    const key = `${topic}:${partition}`;
    const cached = timestamps.get(key);
    let timestamp: number;
    if (cached && cached.offset === offset) {
      timestamp = cached.timestamp;
    } else {
      const lowerBound = cached && cached.offset < offset ? cached.timestamp : 0;
      timestamp = await recordTimestamp(
        async (t) => {
          const offsets = await admin.fetchTopicOffsetsByTimestamp(topic, t);
          const found = offsets.find((o) => o.partition === partition);
          return found ? Number(found.offset) : Infinity;
        },
        offset,
        at,
        lowerBound,
      );
      timestamps.set(key, { offset, timestamp });
    }
    return Math.max(0, (at - timestamp) / 1000);
  }

  async function measure(topic: string, groupActive: boolean): Promise<PartitionLag[]> {
    const [committedTopics, ends] = await Promise.all([
      admin.fetchOffsets({ groupId, topics: [topic] }),
      admin.fetchTopicOffsets(topic),
    ]);
    const committed = new Map(
      (committedTopics.find((t) => t.topic === topic)?.partitions ?? [])
        .map((p) => [p.partition, Number(p.offset)]),
    );
    const at = now();
    return await Promise.all(ends.map(async (end) => {
      const partition = end.partition;
      const logStart = Number(end.low);
      const logEnd = Number(end.high);
      const raw = committed.get(partition);
      const committedOffset = raw !== undefined && raw >= 0 ? raw : null;
      const { position, lag } = lagMessages(committedOffset, logStart, logEnd, policy);
      const lagSeconds = lag > 0 ? await ageSeconds(topic, partition, position, at) : 0;
      const key = `${topic}:${partition}`;
      const window = [...(samples.get(key) ?? []), { position, lag }].slice(-windowSize);
      samples.set(key, window);
      return {
        topic,
        partition,
        committed: committedOffset,
        position,
        logStart,
        logEnd,
        lagMessages: lag,
        lagSeconds,
        status: partitionStatus(window, groupActive, windowSize),
      };
    }));
  }

  async function poll(): Promise<PartitionLag[]> {
    try {
      const described = await admin.describeGroups([groupId]);
      const groupActive = (described.groups[0]?.members.length ?? 0) > 0;
      const measured = (await Promise.all(topics.map((t) => measure(t, groupActive)))).flat();
      for (const lag of measured) exportPartitionLag(metrics, groupId, lag);
      last = measured;
      return measured;
    } catch (error) {
      metrics.errors.labels(groupId).inc();
      logger.warn("Cannot measure lag of group {group}: {error}", { group: groupId, error });
      throw error;
    }
  }

  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = poll().catch(() => {}).finally(schedule);
    }, intervalMs);
  };

  return {
    start() {
      if (!stopped) return;
      stopped = false;
      running = poll().catch(() => {}).finally(schedule);
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
      clearTimeout(timer);
    },
    poll,
    snapshot: () => [...last],
  };
}
