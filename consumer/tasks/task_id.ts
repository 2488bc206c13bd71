/**
 * Which task: its kind (the input topic it reads) and the partition. A module of its
 * own, so what reports on a task does not import the task itself.
 *
 * @module
 */

/** Which task: the kind (its input topic) and the partition. */
export interface TaskId {
  kind: "payments" | "customers";
  partition: number;
}

/** `payments-3`, `customers-0`: how a task is named in logs and metrics. */
export function taskName(id: TaskId): string {
  return `${id.kind}-${id.partition}`;
}
