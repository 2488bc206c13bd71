/**
 * The publisher's kafkajs producer, replaced after every failed send: an idempotent
 * producer with `acks: -1`, bounded retries, and the partition of each record noted
 * as the partitioner chooses it, so an acknowledged send yields every record's offset.
 *
 * Why replace it: kafkajs assigns idempotence sequence numbers when a request is built
 * and rolls them back when it fails; a later batch could then reuse the sequence of a
 * batch the broker did store, and the broker would acknowledge it as a duplicate
 * without writing it. A new producer has a new producer id, so nothing it sends can be
 * mistaken for what the failed one may have written. This holds only while no other
 * send runs beside the failed one, which the request coalescer guarantees.
 *
 * @module
 */
import {
  type Kafka,
  type Message,
  type PartitionerArgs,
  Partitioners,
  type Producer,
} from "kafkajs";
import { compressionType, type KafkaCompression } from "@payments/shared/kafka_codecs";
import { isRetriableKafkaError } from "@payments/shared/kafka_errors";
import {
  describeError,
  type OutgoingRecord,
  PublishError,
  type RecordPosition,
} from "./publisher.ts";
import { instrumentKafkaClient, type ProducerMetrics } from "./metrics.ts";

/** Options of {@linkcode ReplaceableProducer}. */
export interface ReplaceableProducerOptions {
  kafka: Pick<Kafka, "producer">;
  topic: string;
  /** Upper bound of one send, used to bound kafkajs' own retries. */
  sendTimeoutMs: number;
  /** Codec of the record batches it writes (`KAFKA_COMPRESSION`; default none). */
  compression?: KafkaCompression;
  metrics?: ProducerMetrics;
  /** Told of a failed send before the producer is replaced. */
  onSendFailed: (error: unknown, records: number) => void;
}

interface Session {
  producer: Producer;
  connected: boolean;
  assigned: WeakMap<Message, number>;
  stopInstrumentation: () => void;
}

/** An idempotent kafkajs producer that is replaced after any failed send: see the module docs. */
export class ReplaceableProducer {
  readonly #options: ReplaceableProducerOptions;
  #session: Session;

  constructor(options: ReplaceableProducerOptions) {
    this.#options = options;
    this.#session = this.#newSession();
  }

  /** Whether the current producer is connected. */
  get connected(): boolean {
    return this.#session.connected;
  }

  /** Connects the current producer (nothing to do when it is). */
  async connect(): Promise<void> {
    const session = this.#session;
    if (session.connected) return;
    await session.producer.connect();
    session.connected = true;
  }

  /**
   * Writes `records` in one send, waiting for Kafka until `deadline`; resolves with
   * each record's position. A failure replaces the producer and rejects with a
   * {@linkcode PublishError} that says whether Kafka's error is retriable.
   */
  async send(records: readonly OutgoingRecord[], deadline: number): Promise<RecordPosition[]> {
    const session = this.#session;
    const messages: Message[] = records.map((record) => ({
      key: record.key,
      value: record.value,
      headers: record.headers,
    }));
    try {
      await this.connect();
      const metadata = await session.producer.send({
        topic: this.#options.topic,
        messages,
        acks: -1,
        timeout: Math.max(1, deadline - Date.now()),
        compression: compressionType(this.#options.compression ?? "none"),
      });
      return positions(messages, session.assigned, metadata);
    } catch (error) {
      this.#options.onSendFailed(error, records.length);
      this.#session = this.#newSession();
      await disposeSession(session);
      throw new PublishError(
        `Cannot publish to ${this.#options.topic}: ${describeError(error)}`,
        { retriable: isRetriableKafkaError(error), cause: error },
      );
    }
  }

  /** Disconnects the current producer. */
  async close(): Promise<void> {
    await disposeSession(this.#session);
  }

  #newSession(): Session {
    const assigned = new WeakMap<Message, number>();
    const { sendTimeoutMs, metrics } = this.#options;
    const producer = this.#options.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      // Bounded so a failed send settles soon after the HTTP answer; the producer
      // is replaced after a failure, which keeps idempotence sound (see module docs).
      retry: {
        initialRetryTime: 100,
        maxRetryTime: Math.max(200, Math.min(1000, sendTimeoutMs / 4)),
        retries: Math.max(1, Math.ceil(sendTimeoutMs / 500)),
      },
      createPartitioner: () => {
        const partition = Partitioners.DefaultPartitioner();
        return (args: PartitionerArgs) => {
          const chosen = partition(args);
          assigned.set(args.message, chosen);
          return chosen;
        };
      },
    });
    const stopInstrumentation = metrics ? instrumentKafkaClient(producer, metrics) : () => {};
    return { producer, connected: false, assigned, stopInstrumentation };
  }
}

async function disposeSession(session: Session): Promise<void> {
  session.stopInstrumentation();
  session.connected = false;
  await session.producer.disconnect().catch(() => {});
}

interface PartitionResponse {
  partition: number;
  baseOffset?: string;
}

/** Offsets of a send: each partition's base offset plus the record's rank in it. */
function positions(
  messages: readonly Message[],
  assigned: WeakMap<Message, number>,
  metadata: readonly PartitionResponse[],
): RecordPosition[] {
  const base = new Map(metadata.map((entry) => [entry.partition, Number(entry.baseOffset)]));
  const next = new Map<number, number>();
  return messages.map((message) => {
    const partition = assigned.get(message);
    const first = partition === undefined ? undefined : base.get(partition);
    if (partition === undefined || first === undefined || !Number.isFinite(first)) {
      throw new PublishError("Kafka acknowledged the send without a position for every record", {
        retriable: false,
      });
    }
    const rank = next.get(partition) ?? 0;
    next.set(partition, rank + 1);
    return { partition, offset: first + rank };
  });
}
