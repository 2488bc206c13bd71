/**
 * The consumer group as a set of task owners: what each consumer instance tells the
 * group when it joins (where it answers reads, which task stores it holds warm), what
 * the group's leader hands each member beside its partitions (the standby tasks it
 * keeps warm), and how anyone with an admin client reads that back (the producer, to
 * route a status read to the instance holding the payment's store; a consumer, to
 * learn its standbys). Both ride in the classic consumer protocol's user data, so
 * Kafka's own DescribeGroups answer is the directory: no extra topic, no extra store.
 *
 * @module
 */
import { type Admin, AssignerProtocol } from "kafkajs";
import { Buffer } from "node:buffer";
import type { TopicNames } from "./topics.ts";

/** Name of the partition assignor (the group's protocol) of the payment consumers. */
export const TASK_ASSIGNOR = "PaymentTasks";
/** Version of the user data below; a member of another version is read as holding nothing. */
export const TASK_GROUP_VERSION = 1;

/** The two kinds of task and their partitions. */
export interface TaskPartitions {
  /** Partitions of `payment_requests` (payment tasks). */
  payments: number[];
  /** Partitions of `payment_requests.by_customer` (customer tasks). */
  customers: number[];
}

/** The kinds of task, in the order they are listed everywhere. */
export const TASK_KINDS = ["payments", "customers"] as const;
/** One kind of task. */
export type TaskKindName = typeof TASK_KINDS[number];

/** What a member says of itself when it joins. */
export interface MemberInfo {
  /** Base URL where it answers reads of its stores (`http://host:8001`), or null. */
  endpoint: string | null;
  /** Tasks whose stores it holds locally (active, standby or left on disk). */
  warm: TaskPartitions;
  /** Tasks it owned in the generation before (the assignor keeps them where they are). */
  owned: TaskPartitions;
}

/** What a member is handed beside its partitions. */
export interface AssignmentInfo {
  /** Tasks whose stores it keeps warm for a quick hand-over. */
  standby: TaskPartitions;
}

/** One member of the group, decoded. */
export interface TaskGroupMember {
  memberId: string;
  clientHost: string;
  endpoint: string | null;
  active: TaskPartitions;
  standby: TaskPartitions;
}

/** The group as DescribeGroups shows it. */
export interface TaskGroupView {
  /** Kafka's group state: `Stable` once every member has its assignment. */
  state: string;
  /** The group's protocol (assignor); another than ours means members of another kind. */
  protocol: string;
  members: TaskGroupMember[];
}

/** No partitions of either kind. */
export const noTasks = (): TaskPartitions => ({ payments: [], customers: [] });

const isPartitionList = (value: unknown): value is number[] =>
  Array.isArray(value) && value.every((p) => Number.isInteger(p) && p >= 0);

function readPartitions(value: unknown): TaskPartitions {
  const v = (value ?? {}) as Record<string, unknown>;
  return {
    payments: isPartitionList(v.payments) ? v.payments : [],
    customers: isPartitionList(v.customers) ? v.customers : [],
  };
}

function readJson(bytes: Buffer | null | undefined): Record<string, unknown> | undefined {
  if (!bytes || bytes.length === 0) return undefined;
  try {
    const value = JSON.parse(bytes.toString("utf8"));
    return typeof value === "object" && value !== null && value.v === TASK_GROUP_VERSION
      ? value
      : undefined;
  } catch {
    return undefined;
  }
}

/** A member's join metadata: the subscribed topics and its {@linkcode MemberInfo}. */
export function encodeMemberMetadata(topics: string[], info: MemberInfo): Buffer {
  return AssignerProtocol.MemberMetadata.encode({
    version: TASK_GROUP_VERSION,
    topics,
    userData: Buffer.from(JSON.stringify({ v: TASK_GROUP_VERSION, ...info })),
  });
}

/** The {@linkcode MemberInfo} in a member's join metadata (empty when unreadable). */
export function decodeMemberMetadata(metadata: Buffer): MemberInfo {
  const decoded = AssignerProtocol.MemberMetadata.decode(metadata);
  const info = readJson(decoded?.userData);
  return {
    endpoint: typeof info?.endpoint === "string" ? info.endpoint : null,
    warm: readPartitions(info?.warm),
    owned: readPartitions(info?.owned),
  };
}

/** A member's assignment: its partitions per topic and its {@linkcode AssignmentInfo}. */
export function encodeAssignment(
  topics: Pick<TopicNames, "requests" | "byCustomer">,
  active: TaskPartitions,
  info: AssignmentInfo,
): Buffer {
  return AssignerProtocol.MemberAssignment.encode({
    version: TASK_GROUP_VERSION,
    assignment: { [topics.requests]: active.payments, [topics.byCustomer]: active.customers },
    userData: Buffer.from(JSON.stringify({ v: TASK_GROUP_VERSION, ...info })),
  });
}

/** A member's partitions and standbys from its assignment (empty when it has none yet). */
export function decodeAssignment(
  topics: Pick<TopicNames, "requests" | "byCustomer">,
  assignment: Buffer,
): { active: TaskPartitions; standby: TaskPartitions } {
  if (!assignment || assignment.length === 0) return { active: noTasks(), standby: noTasks() };
  const decoded = AssignerProtocol.MemberAssignment.decode(assignment);
  if (!decoded) return { active: noTasks(), standby: noTasks() };
  const info = readJson(decoded.userData);
  return {
    active: {
      payments: [...(decoded.assignment[topics.requests] ?? [])],
      customers: [...(decoded.assignment[topics.byCustomer] ?? [])],
    },
    standby: readPartitions(info?.standby),
  };
}

/**
 * The group `groupId` as its coordinator describes it, each member decoded. Members of
 * another protocol (another kind of consumer in the group) are listed with no tasks.
 */
export async function describeTaskGroup(
  admin: Admin,
  groupId: string,
  topics: Pick<TopicNames, "requests" | "byCustomer">,
): Promise<TaskGroupView> {
  const { groups } = await admin.describeGroups([groupId]);
  const group = groups.find((g) => g.groupId === groupId);
  if (!group) return { state: "Dead", protocol: "", members: [] };
  const ours = group.protocol === TASK_ASSIGNOR;
  return {
    state: group.state,
    protocol: group.protocol,
    members: group.members.map((m) => {
      const info = ours ? decodeMemberMetadata(m.memberMetadata) : undefined;
      const tasks = ours
        ? decodeAssignment(topics, m.memberAssignment)
        : { active: noTasks(), standby: noTasks() };
      return {
        memberId: m.memberId,
        clientHost: m.clientHost,
        endpoint: info?.endpoint ?? null,
        ...tasks,
      };
    }),
  };
}

/** Who holds the store of one task: its active owner, and the members keeping it warm. */
export function replicasOf(
  view: TaskGroupView,
  kind: TaskKindName,
  partition: number,
): { active?: TaskGroupMember; standbys: TaskGroupMember[] } {
  const active = view.members.find((m) => m.active[kind].includes(partition));
  return {
    ...(active ? { active } : {}),
    standbys: view.members.filter((m) => m.standby[kind].includes(partition)),
  };
}
