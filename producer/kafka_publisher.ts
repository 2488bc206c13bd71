/**
 * The kafkajs adapter of {@linkcode PaymentPublisher}, composed of three parts with one
 * job each:
 * - `request_coalescer.ts`: one send at a time, the requests that arrive meanwhile
 *   going out together in the next one (up to {@linkcode MAX_RECORDS_PER_SEND}
 *   records), each answered with its own records' positions within its own timeout;
 * - `replaceable_producer.ts`: the idempotent kafkajs producer (`acks: -1`), replaced
 *   after any failed send so idempotence stays sound;
 * - `readiness_probe.ts`: `ready()` from a periodic topic-metadata check through an
 *   admin client, corrected by what each send shows.
 *
 * The kafkajs client and the admin client are main.ts's; the publisher builds neither.
 *
 * @module
 */
import type { Admin, Kafka } from "kafkajs";
import type { Tracer } from "@opentelemetry/api";
import type { Logger } from "@logtape/logtape";
import type { KafkaCompression } from "@payments/shared/kafka_codecs";
import { isRetriableKafkaError } from "@payments/shared/kafka_errors";
import { pipelineTracer } from "@payments/shared/tracing";
import {
  describeError,
  type OutgoingRecord,
  type PaymentPublisher,
  PublishError,
  type PublishOptions,
  type Readiness,
  type RecordPosition,
} from "./publisher.ts";
import type { ProducerMetrics } from "./metrics.ts";
import { ReadinessProbe } from "./readiness_probe.ts";
import { ReplaceableProducer } from "./replaceable_producer.ts";
import { RequestCoalescer } from "./request_coalescer.ts";
import { coalescedSend } from "./send_spans.ts";

/**
 * Most records one coalesced send carries: with payments of at most ~1 KB this keeps
 * each partition's batch far below the broker's 1 MiB `message.max.bytes`.
 */
export const MAX_RECORDS_PER_SEND = 1000;

/** Options of {@linkcode KafkaPublisher}. */
export interface KafkaPublisherOptions {
  kafka: Pick<Kafka, "producer">;
  /**
   * A new admin client for the readiness checks, best without retries of its own
   * (`kafka.admin({ retry: { retries: 0 } })`): the publisher connects it as it needs
   * and disconnects it on close.
   */
  admin: Pick<Admin, "connect" | "disconnect" | "fetchTopicMetadata">;
  topic: string;
  /** Upper bound of one send, used to bound kafkajs' own retries. */
  sendTimeoutMs: number;
  /** How often readiness re-checks the topic's metadata. */
  readyIntervalMs: number;
  /** Codec of the record batches it writes (`KAFKA_COMPRESSION`; default none). */
  compression?: KafkaCompression;
  metrics?: ProducerMetrics;
  logger: Logger;
  /** How log lines describe a Kafka error (main names the SASL user here); HTTP
   * answers always use the plain {@linkcode describeError}. */
  explain?: (error: unknown) => string;
  /** Default: the services' tracer (`@payments/shared/tracing`). */
  tracer?: Tracer;
}

/** kafkajs adapter: see the module documentation. */
export class KafkaPublisher implements PaymentPublisher, AsyncDisposable {
  readonly topic: string;
  readonly #producer: ReplaceableProducer;
  readonly #probe: ReadinessProbe;
  readonly #coalescer: RequestCoalescer;
  #closed = false;

  constructor(options: KafkaPublisherOptions) {
    const { topic, logger, metrics } = options;
    const explain = options.explain ?? describeError;
    this.topic = topic;
    this.#producer = new ReplaceableProducer({
      kafka: options.kafka,
      topic,
      sendTimeoutMs: options.sendTimeoutMs,
      ...(options.compression ? { compression: options.compression } : {}),
      ...(metrics ? { metrics } : {}),
      onSendFailed: (error, records) => {
        this.#probe.markSendFailed(error);
        logger.warn("Send to {topic} failed; replacing the kafkajs producer", {
          topic,
          records,
          retriable: isRetriableKafkaError(error),
          error: explain(error),
        });
      },
    });
    const tracer = options.tracer ?? pipelineTracer();
    this.#coalescer = new RequestCoalescer({
      topic,
      maxRecordsPerSend: MAX_RECORDS_PER_SEND,
      send: (records, deadline, requests) =>
        coalescedSend(tracer, topic, records.length, requests, () => this.#send(records, deadline)),
    });
    this.#probe = new ReadinessProbe({
      admin: options.admin,
      topic,
      intervalMs: options.readyIntervalMs,
      producerConnected: () => this.#producer.connected,
      connectProducer: () => this.#coalescer.exclusive(() => this.#producer.connect()),
      ...(metrics ? { metrics } : {}),
      logger,
      explain,
    });
  }

  /** Starts connecting and the readiness checks; never throws (state shows in `ready()`). */
  start(): void {
    if (this.#closed) return;
    this.#probe.start();
  }

  /** Resolves once ready, or rejects after `timeoutMs`. Useful for tests and start-up logs. */
  whenReady(timeoutMs: number): Promise<void> {
    return this.#probe.whenReady(timeoutMs);
  }

  ready(): Readiness {
    return this.#probe.ready();
  }

  publish(records: readonly OutgoingRecord[], options: PublishOptions): Promise<RecordPosition[]> {
    if (this.#closed) {
      options.onSettled?.();
      return Promise.reject(
        new PublishError("Cannot publish: the producer is shutting down; nothing was written", {
          retriable: true,
          mayHaveWritten: false,
        }),
      );
    }
    return this.#coalescer.publish(records, options);
  }

  /** Re-checks connection and topic metadata now. */
  check(): Promise<void> {
    return this.#probe.check();
  }

  /** Stops the checks, waits for the send in flight, disconnects. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#probe.close();
    await this.#coalescer.drain().catch(() => {});
    await this.#producer.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #send(records: readonly OutgoingRecord[], deadline: number): Promise<RecordPosition[]> {
    try {
      const positions = await this.#producer.send(records, deadline);
      this.#probe.markHealthy();
      return positions;
    } catch (error) {
      void this.check();
      throw error;
    }
  }
}
