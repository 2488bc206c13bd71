/**
 * Which broker leads each partition, as a transactional producer itself last saw it,
 * so that a transaction sends all the partitions one broker leads in one request.
 *
 * kafkajs 2.2.4 sends a batch as one request per leader broker and, when one of those
 * requests fails, retries the batch while the others may still be in flight: a broker
 * whose answer has not arrived yet gets its partitions again and stores them twice
 * (`transaction.ts` says how that was found). A send whose partitions all have one
 * leader is one request per attempt, so a retry only ever follows a request that has
 * ended, exactly as with a send of one partition; and a transaction of the customer
 * tasks, whose results spread over every partition of `payment_results`, costs one
 * request per broker instead of one per partition (at 200 payments/s, transactions of
 * about six partitions took 114 ms sent one partition at a time).
 *
 * The leaders are kafkajs' own: its partitioner sees the producer's metadata on every
 * attempt of every send, and {@linkcode PartitionLeaders.partitioner} keeps what it
 * sees. A send of several partitions is made only of partitions whose leader is known
 * (`transaction.ts` groups them); on every attempt the partitioner checks that none of
 * them has moved since and otherwise throws {@linkcode LeaderMovedError} before any
 * request goes out. kafkajs does not retry that error: the send fails, the transaction
 * is aborted, and its chunk is read again and grouped by the leaders just learned.
 *
 * @module
 */
import type { ICustomPartitioner, PartitionerArgs } from "kafkajs";

/** A partition of a send made for one leader is led by another broker now. */
export class LeaderMovedError extends Error {
  override name = "LeaderMovedError";
}

/** The leaders of the partitions one producer has written, as its kafkajs metadata says. */
export class PartitionLeaders {
  readonly #leaders = new Map<string, number>();
  #together = false;

  /**
   * For kafkajs' `createPartitioner`: routes each record to the partition it names
   * (every output of the worker names one) and learns that partition's leader.
   */
  readonly partitioner: ICustomPartitioner = () => (args) => this.#route(args);

  /** The broker leading `topic`/`partition` at this producer's last send there, if known. */
  leaderOf(topic: string, partition: number): number | undefined {
    return this.#leaders.get(keyOf(topic, partition));
  }

  /**
   * Runs one send of this producer. `together`: it writes several partitions, grouped
   * by their known leaders, none of which may have moved when kafkajs routes it.
   */
  async send<T>(together: boolean, run: () => Promise<T>): Promise<T> {
    this.#together = together;
    try {
      return await run();
    } finally {
      this.#together = false;
    }
  }

  #route({ topic, partitionMetadata, message }: PartitionerArgs): number {
    const partition = message.partition;
    if (partition === undefined) {
      throw new Error(`a record for ${topic} names no partition (every output of the worker does)`);
    }
    const key = keyOf(topic, partition);
    const known = this.#leaders.get(key);
    const leader = partitionMetadata.find((p) => p.partitionId === partition)?.leader;
    // A partition between leaders (-1) or missing from the metadata has no leader to
    // group by; kafkajs fails such a send and retries it after refreshing.
    if (leader === undefined || leader < 0) this.#leaders.delete(key);
    else this.#leaders.set(key, leader);
    if (this.#together && known !== leader) {
      throw new LeaderMovedError(
        `${topic}-${partition} was led by broker ${known} when its send was grouped, ` +
          `by ${leader ?? "none"} now: the transaction is aborted and its records sent again`,
      );
    }
    return partition;
  }
}

const keyOf = (topic: string, partition: number) => `${topic}\u0000${partition}`;
