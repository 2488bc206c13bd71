/**
 * The status reader as the producer runs it: the owner directory over the consumer
 * group read with an admin client of its own, and the HTTP client of the consumers'
 * stores. main.ts composes it; the pieces are tested apart against fakes.
 *
 * @module
 */
import type { Kafka } from "kafkajs";
import type { TopicNames } from "@payments/shared/topics";
import { kafkaGroupSource } from "./group_source.ts";
import { createOwnerDirectory } from "./owners.ts";
import { createStatusReader, type PaymentStatusReader } from "./status_reader.ts";
import { createStoreClient } from "./store_client.ts";

/** A status reader and what closes it. */
export interface KafkaStatusReader extends AsyncDisposable {
  reader: PaymentStatusReader;
}

/** Reads statuses from the consumers of `groupId` found through `kafka`. */
export function kafkaStatusReader(options: {
  kafka: Kafka;
  groupId: string;
  topics: Pick<TopicNames, "requests" | "byCustomer">;
}): KafkaStatusReader {
  const admin = options.kafka.admin();
  const reader = createStatusReader({
    owners: createOwnerDirectory({
      load: kafkaGroupSource({ admin, groupId: options.groupId, topics: options.topics }),
    }),
    stores: createStoreClient(),
  });
  return { reader, [Symbol.asyncDispose]: () => admin.disconnect() };
}
