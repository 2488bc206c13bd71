/**
 * The group's partition assignor (kafkajs' `partitionAssigners`): every member tells
 * the group where it answers reads and which task stores it holds (in its join
 * metadata, `@payments/shared/task_group`); the member the group elects leader spreads
 * the tasks with {@linkcode assignTasks} and hands each member its standbys beside its
 * partitions. The group's own DescribeGroups answer is then the directory of who holds
 * which store.
 *
 * @module
 */
import type { PartitionAssigner } from "kafkajs";
import {
  decodeMemberMetadata,
  encodeAssignment,
  encodeMemberMetadata,
  type MemberInfo,
  TASK_ASSIGNOR,
  TASK_GROUP_VERSION,
} from "@payments/shared/task_group";
import type { TopicNames } from "@payments/shared/topics";
import { assignTasks } from "./assign_tasks.ts";

/** What the assignor needs. */
export interface TaskAssignorDeps {
  topics: Pick<TopicNames, "requests" | "byCustomer">;
  /** `CONSUMER_STANDBY_REPLICAS`. */
  standbyReplicas: number;
  /** What this member says of itself, read at every join. */
  memberInfo: () => MemberInfo;
}

/** The kafkajs partition assigner of the payment consumers. */
export function taskAssignor(deps: TaskAssignorDeps): PartitionAssigner {
  return ({ cluster }) => ({
    name: TASK_ASSIGNOR,
    version: TASK_GROUP_VERSION,
    assign({ members }) {
      const count = (topic: string) => cluster.findTopicPartitionMetadata(topic).length;
      const assignment = assignTasks({
        members: members.map((m) => ({
          memberId: m.memberId,
          info: decodeMemberMetadata(m.memberMetadata),
        })),
        partitions: {
          payments: count(deps.topics.requests),
          customers: count(deps.topics.byCustomer),
        },
        standbyReplicas: deps.standbyReplicas,
      });
      return Promise.resolve([...assignment].map(([memberId, tasks]) => ({
        memberId,
        memberAssignment: encodeAssignment(deps.topics, tasks.active, { standby: tasks.standby }),
      })));
    },
    protocol({ topics }) {
      return { name: TASK_ASSIGNOR, metadata: encodeMemberMetadata(topics, deps.memberInfo()) };
    },
  });
}
