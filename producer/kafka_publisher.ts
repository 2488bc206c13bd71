/**
 * The kafkajs adapter of {@linkcode PaymentPublisher}: an idempotent producer
 * with `acks: -1`, one `send` per request, a bounded wait, and readiness from a
 * periodic topic-metadata check.
 *
 * Sends run one at a time. kafkajs assigns idempotence sequence numbers when a
 * request is built and rolls them back when it fails; a later batch could then
 * reuse the sequence of a batch the broker did store, and the broker would
 * acknowledge it as a duplicate without writing it. So after any failed send the
 * adapter throws its kafkajs producer away and starts a new one (a new producer
 * id), and no other send runs while one is unresolved.
 *
 * So that one-at-a-time does not mean one request at a time, the requests that
 * arrive while a send is in flight go out together in the next send (up to
 * {@linkcode MAX_RECORDS_PER_SEND} records; a request is never split), and each
 * request still answers only once Kafka acknowledged its own records.
 *
 * A request whose own timeout runs out while it still waits for an earlier send is
 * taken out of the queue and never sent: its error says nothing was written. One whose
 * send is under way cannot be called back: its error says Kafka may have written it,
 * and its `onSettled` comes only when that send ends, which is what admission control
 * waits for before it gives the request's payments back to the budget.
 *
 * @module
 */
import {
  type Admin,
  type Kafka,
  type Message,
  type PartitionerArgs,
  Partitioners,
  type Producer,
} from "kafkajs";
import { getLogger, type Logger } from "@logtape/logtape";
import { compressionType, type KafkaCompression } from "@payments/shared/kafka_codecs";
import { isRetriableKafkaError } from "@payments/shared/kafka_errors";
import {
  describeError,
  type OutgoingRecord,
  type PaymentPublisher,
  PublishError,
  type PublishOptions,
  type Readiness,
  type RecordPosition,
} from "./publisher.ts";
import { instrumentKafkaClient, type ProducerMetrics } from "./metrics.ts";

/**
 * Most records one coalesced send carries: with payments of at most ~1 KB this keeps
 * each partition's batch far below the broker's 1 MiB `message.max.bytes`.
 */
export const MAX_RECORDS_PER_SEND = 1000;

/** A request waiting for the next send. */
interface Waiting {
  records: readonly OutgoingRecord[];
  deadline: number;
  resolve: (positions: RecordPosition[]) => void;
  reject: (error: unknown) => void;
}

/** Options of {@linkcode KafkaPublisher}. */
export interface KafkaPublisherOptions {
  kafka: Kafka;
  topic: string;
  /** Upper bound of one send, used to bound kafkajs' own retries. */
  sendTimeoutMs: number;
  /** How often readiness re-checks the topic's metadata. */
  readyIntervalMs: number;
  /** Codec of the record batches it writes (`KAFKA_COMPRESSION`; default none). */
  compression?: KafkaCompression;
  metrics?: ProducerMetrics;
  logger?: Logger;
  /** How log lines describe a Kafka error (main names the SASL user here); HTTP
   * answers always use the plain {@linkcode describeError}. */
  explain?: (error: unknown) => string;
}

interface Session {
  producer: Producer;
  connected: boolean;
  assigned: WeakMap<Message, number>;
  stopInstrumentation: () => void;
}

/** kafkajs adapter: see the module documentation. */
export class KafkaPublisher implements PaymentPublisher, AsyncDisposable {
  readonly topic: string;
  readonly #options: KafkaPublisherOptions;
  readonly #log: Logger;
  readonly #explain: (error: unknown) => string;
  #session: Session;
  #admin: Admin | undefined;
  #tail: Promise<unknown> = Promise.resolve();
  #metadataOk = false;
  #detail = "not connected to Kafka yet";
  #closed = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #checking: Promise<void> | undefined;
  #waiting: Waiting[] = [];

  constructor(options: KafkaPublisherOptions) {
    this.topic = options.topic;
    this.#options = options;
    this.#log = options.logger ?? getLogger(["producer", "kafka"]);
    this.#explain = options.explain ?? describeError;
    this.#session = this.#newSession();
  }

  /** Starts connecting and the readiness checks; never throws (state shows in `ready()`). */
  start(): void {
    if (this.#timer !== undefined || this.#closed) return;
    void this.#tick();
  }

  /** Resolves once ready, or rejects after `timeoutMs`. Useful for tests and start-up logs. */
  async whenReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.ready().ready) {
      if (Date.now() > deadline) {
        throw new Error(`Kafka publisher not ready after ${timeoutMs} ms: ${this.#detail}`);
      }
      await this.check();
      if (!this.ready().ready) await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  ready(): Readiness {
    const ready = !this.#closed && this.#session.connected && this.#metadataOk;
    return { ready, detail: ready ? `topic ${this.topic} available` : this.#detail };
  }

  async publish(
    records: readonly OutgoingRecord[],
    { timeoutMs, onSettled }: PublishOptions,
  ): Promise<RecordPosition[]> {
    if (this.#closed) {
      onSettled?.();
      throw new PublishError("Cannot publish: the producer is shutting down; nothing was written", {
        retriable: true,
        mayHaveWritten: false,
      });
    }
    let waiting!: Waiting;
    const task = new Promise<RecordPosition[]>((resolve, reject) => {
      waiting = { records, deadline: Date.now() + timeoutMs, resolve, reject };
    });
    // The task settles when the records leave the publisher: answered by Kafka, or
    // dropped unsent. A timeout during the send does not end it (see below).
    if (onSettled) task.then(() => onSettled(), () => onSettled());
    this.#sendWithOthers(waiting);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const what = `Cannot publish ${records.length} payments to ${this.topic}: ` +
          `Kafka did not acknowledge them within ${timeoutMs} ms`;
        if (this.#dropWaiting(waiting)) {
          waiting.reject(
            new PublishError(
              `${what}; they were still waiting for earlier sends and were not sent`,
              {
                retriable: true,
                mayHaveWritten: false,
              },
            ),
          );
        } else {
          reject(
            new PublishError(`${what} while their send was under way`, {
              retriable: true,
              mayHaveWritten: true,
            }),
          );
        }
      }, timeoutMs);
    });
    try {
      return await Promise.race([task, timeout]);
    } finally {
      clearTimeout(timer);
      task.catch(() => {}); // settled after a timeout: already reported.
    }
  }

  /** Re-checks connection and topic metadata now. */
  check(): Promise<void> {
    this.#checking ??= this.#check().finally(() => this.#checking = undefined);
    return this.#checking;
  }

  /** Stops the checks, waits for the send in flight, disconnects. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#timer);
    await this.#tail.catch(() => {});
    await this.#checking?.catch(() => {});
    this.#options.metrics?.kafkaReady.set(0);
    await this.#disposeSession(this.#session);
    await this.#admin?.disconnect().catch(() => {});
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #newSession(): Session {
    const assigned = new WeakMap<Message, number>();
    const producer = this.#options.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      // Bounded so a failed send settles soon after the HTTP answer; the session
      // is replaced after a failure, which keeps idempotence sound (see module docs).
      retry: {
        initialRetryTime: 100,
        maxRetryTime: Math.max(200, Math.min(1000, this.#options.sendTimeoutMs / 4)),
        retries: Math.max(1, Math.ceil(this.#options.sendTimeoutMs / 500)),
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
    const stopInstrumentation = this.#options.metrics
      ? instrumentKafkaClient(producer, this.#options.metrics)
      : () => {};
    return { producer, connected: false, assigned, stopInstrumentation };
  }

  async #disposeSession(session: Session): Promise<void> {
    session.stopInstrumentation();
    session.connected = false;
    await session.producer.disconnect().catch(() => {});
  }

  /** Queues a request for the next send; the first of a group schedules that send. */
  #sendWithOthers(waiting: Waiting): void {
    this.#waiting.push(waiting);
    if (this.#waiting.length === 1) void this.#enqueue(() => this.#sendWaiting());
  }

  /** Takes a request out of the queue if it is still waiting there (not yet sent). */
  #dropWaiting(waiting: Waiting): boolean {
    const index = this.#waiting.indexOf(waiting);
    if (index < 0) return false;
    this.#waiting.splice(index, 1);
    return true;
  }

  /** Sends the waiting requests in one send and answers each with its positions. */
  async #sendWaiting(): Promise<void> {
    let total = 0;
    let take = 0;
    while (
      take < this.#waiting.length &&
      (take === 0 || total + this.#waiting[take]!.records.length <= MAX_RECORDS_PER_SEND)
    ) {
      total += this.#waiting[take]!.records.length;
      take++;
    }
    const taken = this.#waiting.splice(0, take);
    // Whatever did not fit gets a send of its own, after this one.
    if (this.#waiting.length > 0) void this.#enqueue(() => this.#sendWaiting());
    // A request whose own time ran out while it waited has been answered 503 already.
    const now = Date.now();
    const group = taken.filter((waiting) => waiting.deadline > now);
    for (const late of taken.filter((waiting) => waiting.deadline <= now)) {
      late.reject(
        new PublishError("Cannot publish: timed out waiting for earlier sends; nothing was sent", {
          retriable: true,
          mayHaveWritten: false,
        }),
      );
    }
    if (group.length === 0) return;
    try {
      const deadline = Math.min(...group.map((w) => w.deadline));
      const positions = await this.#send(group.flatMap((w) => w.records), deadline);
      let start = 0;
      for (const waiting of group) {
        waiting.resolve(positions.slice(start, start + waiting.records.length));
        start += waiting.records.length;
      }
    } catch (error) {
      for (const waiting of group) waiting.reject(error);
    }
  }

  #enqueue<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#tail.then(task, task);
    this.#tail = run.catch(() => {});
    return run;
  }

  async #connect(session: Session): Promise<void> {
    if (session.connected) return;
    await session.producer.connect();
    session.connected = true;
  }

  async #send(records: readonly OutgoingRecord[], deadline: number): Promise<RecordPosition[]> {
    if (Date.now() >= deadline) {
      throw new PublishError(
        "Cannot publish: timed out waiting for earlier sends; nothing was sent",
        {
          retriable: true,
          mayHaveWritten: false,
        },
      );
    }
    const session = this.#session;
    const messages: Message[] = records.map((record) => ({
      key: record.key,
      value: record.value,
      headers: record.headers,
    }));
    try {
      await this.#connect(session);
      const metadata = await session.producer.send({
        topic: this.topic,
        messages,
        acks: -1,
        timeout: Math.max(1, deadline - Date.now()),
        compression: compressionType(this.#options.compression ?? "none"),
      });
      this.#markHealthy();
      return positions(messages, session.assigned, metadata);
    } catch (error) {
      const retriable = isRetriableKafkaError(error);
      this.#markUnhealthy(`last send failed: ${describeError(error)}`);
      this.#log.warn("Send to {topic} failed; replacing the kafkajs producer", {
        topic: this.topic,
        records: records.length,
        retriable,
        error: this.#explain(error),
      });
      this.#session = this.#newSession();
      await this.#disposeSession(session);
      void this.check();
      throw new PublishError(
        `Cannot publish to ${this.topic}: ${describeError(error)}`,
        { retriable, cause: error },
      );
    }
  }

  #markHealthy(): void {
    this.#metadataOk = true;
    this.#options.metrics?.kafkaReady.set(this.ready().ready ? 1 : 0);
  }

  #markUnhealthy(detail: string): void {
    this.#metadataOk = false;
    this.#detail = detail;
    this.#options.metrics?.kafkaReady.set(0);
  }

  async #tick(): Promise<void> {
    if (this.#closed) return;
    await this.check();
    if (this.#closed) return;
    this.#timer = setTimeout(() => void this.#tick(), this.#options.readyIntervalMs);
  }

  async #check(): Promise<void> {
    if (this.#closed) return;
    try {
      if (!this.#session.connected) {
        const session = this.#session;
        await this.#enqueue(() => this.#connect(session));
      }
      this.#admin ??= this.#options.kafka.admin({ retry: { retries: 0 } });
      await this.#admin.connect();
      const { topics } = await this.#admin.fetchTopicMetadata({ topics: [this.topic] });
      const partitions = topics.find((topic) => topic.name === this.topic)?.partitions ?? [];
      if (partitions.length === 0) throw new Error(`topic ${this.topic} has no partitions`);
      if (!this.#metadataOk) {
        this.#log.info("Kafka ready: topic {topic} has {partitions} partitions", {
          topic: this.topic,
          partitions: partitions.length,
        });
      }
      this.#markHealthy();
    } catch (error) {
      if (this.#metadataOk || this.#detail.startsWith("not connected")) {
        this.#log.warn("Kafka not ready: {error}", { error: this.#explain(error) });
      }
      this.#markUnhealthy(
        `Kafka unreachable or topic ${this.topic} unknown: ${describeError(error)}`,
      );
      const admin = this.#admin;
      this.#admin = undefined;
      await admin?.disconnect().catch(() => {});
    }
  }
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
