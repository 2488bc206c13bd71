/**
 * The partition Kafka's default partitioner gives a key: murmur2 of the key's UTF-8
 * bytes, made positive, modulo the partition count. The Java client, kafkajs and
 * librdkafka's `murmur2_random` agree on it, which is what lets the consumer route a
 * payment to its customer's partition and the producer find the owner of a payment.
 *
 * @module
 */
import murmur2 from "kafkajs/src/producer/partitioners/default/murmur2.js";

/**
 * The partition of `key` among `partitions`.
 *
 * @example
 * ```ts
 * partitionForKey("CUST-001", 6); // the partition kafkajs' DefaultPartitioner picks
 * ```
 */
export function partitionForKey(key: string, partitions: number): number {
  if (!Number.isInteger(partitions) || partitions < 1) {
    throw new RangeError(`a topic has at least one partition (got ${partitions})`);
  }
  return ((murmur2 as (key: string) => number)(key) & 0x7fffffff) % partitions;
}
