/**
 * The edge between the HTTP layer and Kafka: a narrow {@linkcode PaymentPublisher}
 * interface and the errors it raises. The kafkajs adapter lives in
 * `kafka_publisher.ts`, the test fake in `fake_publisher.ts`; what a kafkajs failure
 * means is decided in `@payments/shared/kafka_errors`.
 *
 * @module
 */
import type { Context } from "@opentelemetry/api";

/** One record to write: key is the payment id, value the PaymentEvent JSON. */
export interface OutgoingRecord {
  key: string;
  value: string;
  headers: Record<string, string>;
}

/** Where Kafka stored a record. */
export interface RecordPosition {
  partition: number;
  offset: number;
}

/** Options of one publish call. */
export interface PublishOptions {
  /** Give up (and report a retriable failure) when Kafka has not acknowledged by then. */
  timeoutMs: number;
  /**
   * Called once when the publisher no longer holds the records: acknowledged, failed, or
   * dropped before being sent. It can come after `publish` settled: a request whose
   * timeout ran out while its send was under way is held until that send ends.
   */
  onSettled?: () => void;
  /**
   * The request's trace context (its send span): a send shared with other requests
   * links to each of them (`send_spans.ts`).
   */
  trace?: Context;
}

/** Whether the publisher can take payments right now, and why not. */
export interface Readiness {
  ready: boolean;
  detail: string;
}

/**
 * Writes one request's records to Kafka as one unit: resolves only when Kafka
 * acknowledged every record (with their positions, in input order), rejects with
 * a {@linkcode PublishError} otherwise.
 */
export interface PaymentPublisher {
  /** The topic records go to. */
  readonly topic: string;
  publish(records: readonly OutgoingRecord[], options: PublishOptions): Promise<RecordPosition[]>;
  ready(): Readiness;
}

/**
 * Publishing failed; `retriable` says whether the same request may succeed later, and
 * `mayHaveWritten` whether Kafka may have stored some of its records all the same (a
 * send that was under way), or certainly none (never sent).
 */
export class PublishError extends Error {
  override name = "PublishError";
  readonly retriable: boolean;
  readonly mayHaveWritten: boolean;
  constructor(
    message: string,
    options: { retriable: boolean; mayHaveWritten?: boolean; cause?: unknown },
  ) {
    super(message, { cause: options.cause });
    this.retriable = options.retriable;
    this.mayHaveWritten = options.mayHaveWritten ?? true;
  }
}

/** The short description of an error, without stack or payload. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}
