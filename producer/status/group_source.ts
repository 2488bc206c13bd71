/**
 * The Kafka side of the owner directory: one DescribeGroups of the consumer group (each
 * member's endpoint, tasks and standbys, decoded by `@payments/shared/task_group`) and
 * the partition counts of the two topics whose keys place a payment in its tasks, read
 * together so a snapshot never pairs a group with counts from another moment.
 *
 * @module
 */
import type { Admin } from "kafkajs";
import { describeTaskGroup } from "@payments/shared/task_group";
import type { TopicNames } from "@payments/shared/topics";
import type { GroupSnapshot } from "./owners.ts";

/** What the source reads. */
export interface GroupSourceDeps {
  /** An admin client of its own; connected on first use, and again after a failure. */
  admin: Admin;
  groupId: string;
  topics: Pick<TopicNames, "requests" | "byCustomer">;
}

/** The `load` of `createOwnerDirectory`, reading `deps.groupId` from Kafka. */
export function kafkaGroupSource(deps: GroupSourceDeps): () => Promise<GroupSnapshot> {
  const { admin, groupId, topics } = deps;
  let connected: Promise<void> | undefined;
  return async () => {
    connected ??= admin.connect();
    try {
      await connected;
      const [view, metadata] = await Promise.all([
        describeTaskGroup(admin, groupId, topics),
        admin.fetchTopicMetadata({ topics: [topics.requests, topics.byCustomer] }),
      ]);
      const count = (topic: string) => {
        const n = metadata.topics.find((t) => t.name === topic)?.partitions.length ?? 0;
        if (n === 0) throw new Error(`topic ${topic} has no partitions (does it exist?)`);
        return n;
      };
      return {
        view,
        partitions: { payments: count(topics.requests), customers: count(topics.byCustomer) },
      };
    } catch (error) {
      // A connection kafkajs gave up on is made again by the next load.
      connected = undefined;
      throw new Error(`Cannot describe consumer group ${groupId}: ${describe(error)}`, {
        cause: error,
      });
    }
  };
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
