/**
 * What the worker says about itself: its state in the group and the partitions it
 * holds. Read by the HTTP server (`/ready`, `/health`) and by the
 * `consumer_worker_state` gauge; a module of its own so neither imports the worker.
 *
 * @module
 */

/** The worker's state in its consumer group. */
export type WorkerState =
  | "starting"
  | "joining"
  | "rebalancing"
  | "waiting"
  | "assigned"
  | "restarting"
  | "crashed"
  | "stopped";

/** Where one assigned task stands. */
export interface TaskStatus {
  kind: "payments" | "customers";
  partition: number;
  state: "restoring" | "running" | "failed";
}

/** What /ready reports. */
export interface WorkerStatus {
  state: WorkerState;
  /** Partitions of `payment_requests` assigned (the payment tasks). */
  assignedPartitions: number[];
  /** Every task assigned, of both kinds, and how each stands. */
  assignedTasks: TaskStatus[];
  /** Standby tasks kept warm here. */
  standbyTasks?: { kind: "payments" | "customers"; partition: number }[];
  memberId?: string;
  lastKafkaContact?: number;
}
