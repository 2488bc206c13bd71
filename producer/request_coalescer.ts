/**
 * Request coalescing: one send to Kafka at a time, and the requests that arrive while
 * a send is in flight go out together in the next one (up to `maxRecordsPerSend`
 * records; a request is never split), each answered with the positions of its own
 * records. Pure logic over a `send` function, so it is tested against a fake producer.
 *
 * Why one at a time: kafkajs assigns idempotence sequence numbers when a request is
 * built and rolls them back when it fails; a later batch could then reuse the sequence
 * of a batch the broker did store (see `replaceable_producer.ts`). So no send starts
 * while another is unresolved, and coalescing keeps that from meaning one request at
 * a time.
 *
 * A request whose own timeout runs out while it still waits for an earlier send is
 * taken out of the queue and never sent: its error says nothing was written. One whose
 * send is under way cannot be called back: its error says Kafka may have written it,
 * and its `onSettled` comes only when that send ends, which is what admission control
 * waits for before it gives the request's payments back to the budget.
 *
 * Each request's trace context travels with it, so the send that carries several
 * requests can link to each of them.
 *
 * @module
 */
import type { Context } from "@opentelemetry/api";
import {
  type OutgoingRecord,
  PublishError,
  type PublishOptions,
  type RecordPosition,
} from "./publisher.ts";

/**
 * Writes records in one send; resolves with their positions in input order. `requests`
 * are the trace contexts of the requests the send serves, in order.
 */
export type SendRecords = (
  records: readonly OutgoingRecord[],
  deadline: number,
  requests: readonly (Context | undefined)[],
) => Promise<RecordPosition[]>;

/** Options of {@linkcode RequestCoalescer}. */
export interface RequestCoalescerOptions {
  /** One send to Kafka; never called while another is unresolved. */
  send: SendRecords;
  /** The topic, as error messages name it. */
  topic: string;
  /** Most records one send carries (a larger request still goes alone). */
  maxRecordsPerSend: number;
  /** Milliseconds clock of the deadlines (tests drive it). */
  now?: () => number;
}

/** A request waiting for the next send. */
interface Waiting {
  records: readonly OutgoingRecord[];
  deadline: number;
  trace: Context | undefined;
  resolve: (positions: RecordPosition[]) => void;
  reject: (error: unknown) => void;
}

const NOTHING_SENT = "Cannot publish: timed out waiting for earlier sends; nothing was sent";

/** Coalesces concurrent publish requests into sends made one at a time: see the module docs. */
export class RequestCoalescer {
  readonly #options: RequestCoalescerOptions;
  readonly #now: () => number;
  #tail: Promise<unknown> = Promise.resolve();
  #waiting: Waiting[] = [];

  constructor(options: RequestCoalescerOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  /**
   * Sends `records` with the requests that wait beside them; resolves with their
   * positions, or rejects with a {@linkcode PublishError} (or the error of the send).
   */
  async publish(
    records: readonly OutgoingRecord[],
    { timeoutMs, onSettled, trace }: PublishOptions,
  ): Promise<RecordPosition[]> {
    let waiting!: Waiting;
    const task = new Promise<RecordPosition[]>((resolve, reject) => {
      waiting = { records, deadline: this.#now() + timeoutMs, trace, resolve, reject };
    });
    // The task settles when the records leave the coalescer: answered by Kafka, or
    // dropped unsent. A timeout during the send does not end it (see below).
    if (onSettled) task.then(() => onSettled(), () => onSettled());
    this.#sendWithOthers(waiting);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const what = `Cannot publish ${records.length} payments to ${this.#options.topic}: ` +
          `Kafka did not acknowledge them within ${timeoutMs} ms`;
        if (this.#dropWaiting(waiting)) {
          waiting.reject(
            new PublishError(
              `${what}; they were still waiting for earlier sends and were not sent`,
              { retriable: true, mayHaveWritten: false },
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

  /** Runs `task` between sends, never beside one (the producer's connect). */
  exclusive<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#tail.then(task, task);
    this.#tail = run.catch(() => {});
    return run;
  }

  /** Resolves once the send in flight and everything queued behind it have ended. */
  async drain(): Promise<void> {
    await this.#tail;
  }

  /** Queues a request for the next send; the first of a group schedules that send. */
  #sendWithOthers(waiting: Waiting): void {
    this.#waiting.push(waiting);
    if (this.#waiting.length === 1) void this.exclusive(() => this.#sendWaiting());
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
    const max = this.#options.maxRecordsPerSend;
    let total = 0;
    let take = 0;
    while (
      take < this.#waiting.length &&
      (take === 0 || total + this.#waiting[take]!.records.length <= max)
    ) {
      total += this.#waiting[take]!.records.length;
      take++;
    }
    const taken = this.#waiting.splice(0, take);
    // Whatever did not fit gets a send of its own, after this one.
    if (this.#waiting.length > 0) void this.exclusive(() => this.#sendWaiting());
    // A request whose own time ran out while it waited has been answered 503 already.
    const now = this.#now();
    const group = taken.filter((waiting) => waiting.deadline > now);
    for (const late of taken.filter((waiting) => waiting.deadline <= now)) {
      late.reject(new PublishError(NOTHING_SENT, { retriable: true, mayHaveWritten: false }));
    }
    if (group.length === 0) return;
    try {
      const deadline = Math.min(...group.map((w) => w.deadline));
      if (this.#now() >= deadline) {
        throw new PublishError(NOTHING_SENT, { retriable: true, mayHaveWritten: false });
      }
      const positions = await this.#options.send(
        group.flatMap((w) => w.records),
        deadline,
        group.map((w) => w.trace),
      );
      let start = 0;
      for (const waiting of group) {
        waiting.resolve(positions.slice(start, start + waiting.records.length));
        start += waiting.records.length;
      }
    } catch (error) {
      for (const waiting of group) waiting.reject(error);
    }
  }
}
