/**
 * What the consumer's `/ready` says, from the worker's status: ready only while the
 * instance is a member of its group whose every assigned task is restored and running
 * (a member without partitions, because the group has more instances than partitions,
 * is ready and says so), and Kafka answers. Anything else is not ready, with the
 * reason: starting, joining, rebalancing, restoring which tasks, a task that could not
 * be prepared, a consumer being restarted or stopped for good.
 *
 * @module
 */
import type { WorkerStatus } from "./status.ts";

/** The verdict and why. */
export interface Readiness {
  ready: boolean;
  reason: string;
}

const name = (t: { kind: string; partition: number }) => `${t.kind}-${t.partition}`;

/** Readiness of a worker in `status`, given whether Kafka answers. */
export function readiness(status: WorkerStatus, kafkaReachable: boolean): Readiness {
  switch (status.state) {
    case "starting":
      return { ready: false, reason: "connecting to Kafka, not yet a group member" };
    case "joining":
      return { ready: false, reason: "joining the consumer group: no partitions assigned yet" };
    case "rebalancing":
      return { ready: false, reason: "the consumer group is rebalancing" };
    case "restarting":
      return { ready: false, reason: "kafkajs is restarting the consumer after a retriable error" };
    case "crashed":
      return { ready: false, reason: "the consumer stopped for good; restart the process" };
    case "stopped":
      return { ready: false, reason: "stopped" };
    case "waiting":
    case "assigned":
      break;
  }
  if (!kafkaReachable) return { ready: false, reason: "Kafka does not answer" };
  if (status.assignedTasks.length === 0) {
    return {
      ready: true,
      reason: "a group member without partitions: the group has more instances than partitions",
    };
  }
  const failed = status.assignedTasks.filter((t) => t.state === "failed");
  if (failed.length > 0) {
    return {
      ready: false,
      reason: `tasks ${failed.map(name).join(", ")} could not be prepared; retrying`,
    };
  }
  const restoring = status.assignedTasks.filter((t) => t.state !== "running");
  if (restoring.length > 0) {
    return { ready: false, reason: `restoring tasks ${restoring.map(name).join(", ")}` };
  }
  return {
    ready: true,
    reason: `running ${status.assignedTasks.length} tasks: ${
      status.assignedTasks.map(name).join(", ")
    }`,
  };
}
