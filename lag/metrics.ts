/**
 * The lag monitor's metrics, created by the member itself on the registry of the
 * service that runs it. The names and labels are a contract: the dashboards, the
 * alert rules and the lab's tooling read them.
 *
 * @module
 */
import { Counter, Gauge, type Registry } from "prom-client";
import { PARTITION_STATUSES, type PartitionStatus } from "./partition_status.ts";

/** What the monitor exports, per `{group, topic, partition}`. */
export interface LagMetrics {
  /** `consumer_lag_messages`: records between the group's position and the log end. */
  messages: Gauge<"group" | "topic" | "partition">;
  /** `consumer_lag_seconds`: age of the oldest record the group has not processed. */
  seconds: Gauge<"group" | "topic" | "partition">;
  /** `consumer_partition_status{status}`: 1 for the partition's Burrow status, 0 for the others. */
  status: Gauge<"group" | "topic" | "partition" | "status">;
  /** `consumer_lag_monitor_errors_total{group}`: measurements that failed. */
  errors: Counter<"group">;
}

const LABELS = ["group", "topic", "partition"] as const;

/**
 * Registers the lag metrics on `registry` (once per registry: a service runs one
 * monitor).
 *
 * @example
 * ```ts
 * const metrics = createLagMetrics(registry);
 * metrics.messages.set({ group: "g", topic: "t", partition: "0" }, 3);
 * ```
 */
export function createLagMetrics(registry: Registry): LagMetrics {
  const registers = [registry];
  return {
    messages: new Gauge({
      name: "consumer_lag_messages",
      help: "Records between the group's committed offset and the log end",
      labelNames: LABELS,
      registers,
    }),
    seconds: new Gauge({
      name: "consumer_lag_seconds",
      help: "Age of the oldest record the group has not processed (0 when caught up)",
      labelNames: LABELS,
      registers,
    }),
    status: new Gauge({
      name: "consumer_partition_status",
      help: "Burrow-style partition status of the group (1 for the current status, else 0)",
      labelNames: [...LABELS, "status"],
      registers,
    }),
    errors: new Counter({
      name: "consumer_lag_monitor_errors_total",
      help: "Lag measurements that failed",
      labelNames: ["group"],
      registers,
    }),
  };
}

/** One measurement of a partition, as the metrics show it. */
export interface MeasuredPartition {
  topic: string;
  partition: number;
  lagMessages: number;
  lagSeconds: number;
  status: PartitionStatus;
}

/** Sets every series of one measured partition of `group`. */
export function exportPartitionLag(
  metrics: LagMetrics,
  group: string,
  lag: MeasuredPartition,
): void {
  const labels = { group, topic: lag.topic, partition: String(lag.partition) };
  metrics.messages.set(labels, lag.lagMessages);
  metrics.seconds.set(labels, lag.lagSeconds);
  for (const status of PARTITION_STATUSES) {
    metrics.status.set({ ...labels, status }, status === lag.status ? 1 : 0);
  }
}
