/**
 * Whether the publisher can take payments: a periodic check that the producer is
 * connected and that an admin client gets the topic's metadata, corrected at once by
 * what each send shows (a success marks Kafka healthy, a failure unhealthy). `/ready`
 * and `kafka_producer_ready` report it. When Kafka answers that the topic does not
 * exist, the detail (and the log line) names it with its variable, the producer's
 * only topic being `TOPIC_PAYMENT_REQUESTS`: the operator has a topic to create or a
 * variable to fix, not an outage to wait out. The checks go on, so the producer is
 * ready once the topic exists, without a restart.
 *
 * The admin client is the caller's (main.ts builds it with no retries of its own); the
 * probe connects it as it needs, disconnects it after a failed check so the next one
 * starts from a fresh connection, and leaves it disconnected on close.
 *
 * @module
 */
import type { Admin } from "kafkajs";
import type { Logger } from "@logtape/logtape";
import { isUnknownTopic } from "@payments/shared/kafka_errors";
import { TOPIC_VARIABLES } from "@payments/shared/topics";
import { describeError, type Readiness } from "./publisher.ts";
import type { ProducerMetrics } from "./metrics.ts";

/** Options of {@linkcode ReadinessProbe}. */
export interface ReadinessProbeOptions {
  admin: Pick<Admin, "connect" | "disconnect" | "fetchTopicMetadata">;
  topic: string;
  /** How often the check runs. */
  intervalMs: number;
  /** Whether the producer is connected (readiness needs it). */
  producerConnected: () => boolean;
  /** Connects the producer when it is not (between sends). */
  connectProducer: () => Promise<void>;
  metrics?: Pick<ProducerMetrics, "kafkaReady">;
  logger: Logger;
  /** How log lines describe a Kafka error. */
  explain: (error: unknown) => string;
}

/** The publisher's readiness: see the module docs. */
export class ReadinessProbe {
  readonly #options: ReadinessProbeOptions;
  #metadataOk = false;
  #detail = "not connected to Kafka yet";
  /** Whether the last failed check was Kafka saying the topic does not exist. */
  #topicMissing = false;
  #closed = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #checking: Promise<void> | undefined;

  constructor(options: ReadinessProbeOptions) {
    this.#options = options;
  }

  /** Starts the periodic checks (the first one now); never throws. */
  start(): void {
    if (this.#timer !== undefined || this.#closed) return;
    void this.#tick();
  }

  ready(): Readiness {
    const ready = !this.#closed && this.#options.producerConnected() && this.#metadataOk;
    return { ready, detail: ready ? `topic ${this.#options.topic} available` : this.#detail };
  }

  /** Resolves once ready, or rejects after `timeoutMs`. */
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

  /** Re-checks connection and topic metadata now (one check at a time). */
  check(): Promise<void> {
    this.#checking ??= this.#check().finally(() => this.#checking = undefined);
    return this.#checking;
  }

  /** Kafka answered: a send was acknowledged, or the metadata came back. */
  markHealthy(): void {
    this.#metadataOk = true;
    this.#options.metrics?.kafkaReady.set(this.ready().ready ? 1 : 0);
  }

  /** A send failed: not ready until a check or a send succeeds; a missing topic is named. */
  markSendFailed(error: unknown): void {
    this.markUnhealthy(
      isUnknownTopic(error) ? this.#missingTopic() : `last send failed: ${describeError(error)}`,
    );
  }

  /** Kafka did not answer as it should; `detail` says how. */
  markUnhealthy(detail: string): void {
    this.#metadataOk = false;
    this.#detail = detail;
    this.#options.metrics?.kafkaReady.set(0);
  }

  /** Stops the checks, waits for the one running, disconnects the admin client. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#timer);
    await this.#checking?.catch(() => {});
    this.#options.metrics?.kafkaReady.set(0);
    await this.#options.admin.disconnect().catch(() => {});
  }

  /** The detail for a topic Kafka says does not exist, named with its variable. */
  #missingTopic(): string {
    return `the topic ${this.#options.topic} (${TOPIC_VARIABLES.requests}) does not exist`;
  }

  async #tick(): Promise<void> {
    if (this.#closed) return;
    await this.check();
    if (this.#closed) return;
    this.#timer = setTimeout(() => void this.#tick(), this.#options.intervalMs);
  }

  async #check(): Promise<void> {
    if (this.#closed) return;
    const { admin, topic, logger } = this.#options;
    try {
      if (!this.#options.producerConnected()) await this.#options.connectProducer();
      await admin.connect();
      const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
      const partitions = topics.find((found) => found.name === topic)?.partitions ?? [];
      if (partitions.length === 0) throw new Error(`topic ${topic} has no partitions`);
      if (!this.#metadataOk) {
        logger.info("Kafka ready: topic {topic} has {partitions} partitions", {
          topic,
          partitions: partitions.length,
        });
      }
      this.#topicMissing = false;
      this.markHealthy();
    } catch (error) {
      const topicMissing = isUnknownTopic(error);
      const firstFailure = this.#metadataOk || this.#detail.startsWith("not connected");
      const detail = topicMissing
        ? this.#missingTopic()
        : `Kafka unreachable or topic ${topic} unknown: ${describeError(error)}`;
      if (firstFailure || topicMissing !== this.#topicMissing) {
        logger.warn("Kafka not ready: {error}", {
          error: topicMissing ? detail : this.#options.explain(error),
        });
      }
      this.#topicMissing = topicMissing;
      this.markUnhealthy(detail);
      await admin.disconnect().catch(() => {});
    }
  }
}
