/**
 * An in-memory {@linkcode PaymentPublisher} for unit tests of the HTTP layer:
 * records what was published and can be told to fail or hang like Kafka does.
 *
 * @module
 */
import {
  type OutgoingRecord,
  type PaymentPublisher,
  PublishError,
  type PublishOptions,
  type Readiness,
  type RecordPosition,
} from "./publisher.ts";

/** How the fake answers the next publish calls. */
export type FakeBehaviour = "accept" | "unavailable" | "rejected" | "hang";

/** In-memory publisher; see the module documentation. */
export class FakePublisher implements PaymentPublisher {
  readonly topic: string;
  readonly partitions: number;
  /** Every record accepted, in order. */
  readonly published: OutgoingRecord[] = [];
  /** Number of publish calls, accepted or not. */
  calls = 0;
  behaviour: FakeBehaviour = "accept";
  isReady = true;
  readonly #offsets: number[];
  #held: PromiseWithResolvers<void> | undefined;

  constructor({ topic = "payment_requests", partitions = 6 } = {}) {
    this.topic = topic;
    this.partitions = partitions;
    this.#offsets = new Array(partitions).fill(0);
  }

  /** Holds every publish call (as a slow Kafka would) until {@linkcode release}. */
  hold(): void {
    this.#held ??= Promise.withResolvers<void>();
  }

  /** Lets the held publish calls go on. */
  release(): void {
    this.#held?.resolve();
    this.#held = undefined;
  }

  ready(): Readiness {
    return this.isReady
      ? { ready: true, detail: "fake ready" }
      : { ready: false, detail: "fake not ready" };
  }

  async publish(
    records: readonly OutgoingRecord[],
    options: PublishOptions,
  ): Promise<RecordPosition[]> {
    try {
      return await this.#answer(records, options.timeoutMs);
    } finally {
      options.onSettled?.();
    }
  }

  async #answer(records: readonly OutgoingRecord[], timeoutMs: number): Promise<RecordPosition[]> {
    this.calls++;
    if (this.#held) await this.#held.promise;
    await Promise.resolve();
    switch (this.behaviour) {
      case "unavailable":
        throw new PublishError("Cannot publish: broker 127.0.0.1:9 unreachable", {
          retriable: true,
        });
      case "rejected":
        throw new PublishError("Cannot publish: topic authorization failed", { retriable: false });
      case "hang":
        await new Promise((resolve) => setTimeout(resolve, timeoutMs));
        throw new PublishError(`Kafka did not acknowledge within ${timeoutMs} ms`, {
          retriable: true,
        });
      case "accept":
        return records.map((record) => {
          this.published.push(record);
          const partition = hash(record.key) % this.partitions;
          const offset = this.#offsets[partition]!;
          this.#offsets[partition] = offset + 1;
          return { partition, offset };
        });
    }
  }
}

function hash(text: string): number {
  let value = 0;
  for (const char of text) value = (value * 31 + char.charCodeAt(0)) >>> 0;
  return value;
}
