/**
 * How the group's leader spreads the tasks over the members (Kafka Streams'
 * HighAvailabilityTaskAssignor, small): each kind of task is balanced on its own (at
 * most `ceil(partitions / members)` per member), a task stays with the member that
 * owned it in the last generation, then goes to a member holding its store warm, then
 * to the least loaded member; each task gets up to `standbyReplicas` standbys on other
 * members, warm ones first, spread evenly. Pure and deterministic: members are taken
 * in order of their ids, so every run over the same group gives the same answer.
 *
 * @module
 */
import {
  type MemberInfo,
  noTasks,
  TASK_KINDS,
  type TaskPartitions,
} from "@payments/shared/task_group";

/** One member as the assignor sees it. */
export interface AssignableMember {
  memberId: string;
  info: Pick<MemberInfo, "warm" | "owned">;
}

/** What one member gets. */
export interface MemberTasks {
  active: TaskPartitions;
  standby: TaskPartitions;
}

/** What is assigned. */
export interface TaskAssignmentInput {
  members: readonly AssignableMember[];
  /** Partition count of each kind's input topic. */
  partitions: Record<keyof TaskPartitions, number>;
  /** Standby copies wanted of each task (fewer when there are not enough members). */
  standbyReplicas: number;
}

function pick<T extends { memberId: string }>(
  candidates: T[],
  load: Map<string, number>,
): T | undefined {
  let best: T | undefined;
  for (const c of candidates) {
    if (!best || load.get(c.memberId)! < load.get(best.memberId)!) best = c;
  }
  return best;
}

/** The active and standby tasks of every member. */
export function assignTasks(input: TaskAssignmentInput): Map<string, MemberTasks> {
  const members = [...input.members].sort((a, b) => a.memberId.localeCompare(b.memberId));
  const result = new Map<string, MemberTasks>(
    members.map((m) => [m.memberId, { active: noTasks(), standby: noTasks() }]),
  );
  if (members.length === 0) return result;
  for (const kind of TASK_KINDS) {
    const count = input.partitions[kind];
    const cap = Math.ceil(count / members.length);
    const load = new Map(members.map((m) => [m.memberId, 0]));
    const owner = new Map<number, string>();
    const give = (partition: number, memberId: string) => {
      owner.set(partition, memberId);
      load.set(memberId, load.get(memberId)! + 1);
      result.get(memberId)!.active[kind].push(partition);
    };
    const open = (m: AssignableMember) => load.get(m.memberId)! < cap;
    for (let p = 0; p < count; p++) {
      const previous = members.find((m) => m.info.owned[kind].includes(p) && open(m));
      if (previous) give(p, previous.memberId);
    }
    for (let p = 0; p < count; p++) {
      if (owner.has(p)) continue;
      const warm = pick(members.filter((m) => m.info.warm[kind].includes(p) && open(m)), load);
      if (warm) give(p, warm.memberId);
    }
    for (let p = 0; p < count; p++) {
      if (!owner.has(p)) give(p, pick(members.filter(open), load)!.memberId);
    }
    const replicas = Math.min(input.standbyReplicas, members.length - 1);
    const standbyLoad = new Map(members.map((m) => [m.memberId, 0]));
    for (let p = 0; p < count && replicas > 0; p++) {
      const chosen = new Set([owner.get(p)!]);
      for (let r = 0; r < replicas; r++) {
        const free = members.filter((m) => !chosen.has(m.memberId));
        const warm = free.filter((m) => m.info.warm[kind].includes(p));
        const member = pick(warm.length > 0 ? warm : free, standbyLoad)!;
        chosen.add(member.memberId);
        standbyLoad.set(member.memberId, standbyLoad.get(member.memberId)! + 1);
        result.get(member.memberId)!.standby[kind].push(p);
      }
    }
  }
  for (const tasks of result.values()) {
    for (const kind of TASK_KINDS) {
      tasks.active[kind].sort((a, b) => a - b);
      tasks.standby[kind].sort((a, b) => a - b);
    }
  }
  return result;
}
