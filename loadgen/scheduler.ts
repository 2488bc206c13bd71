/**
 * Open-model pacing: request `i` is due at `start + i / rate`, whatever happened to
 * the requests before it. When the generator falls behind (too few free slots, a
 * busy event loop) it sends the overdue requests at once and records how late each
 * one started, so the report can say the offered rate was not kept.
 *
 * @module
 */

/** Time source; injected so pacing can be tested without real time. */
export interface Clock {
  /** Milliseconds on a monotonic clock. */
  now(): number;
  /** Resolves after `ms` milliseconds. */
  sleep(ms: number): Promise<void>;
}

/** The real clock: `performance.now()` and `setTimeout`. */
export const systemClock: Clock = {
  now: () => performance.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/** A request's place in the schedule. */
export interface Slot {
  /** 0-based request number. */
  index: number;
  /** When the schedule wanted it sent (clock milliseconds). */
  dueAt: number;
}

/** Hands out slots on schedule (with a rate) or immediately (closed model). */
export class Pacer {
  readonly #clock: Clock;
  readonly #intervalMs: number | undefined;
  #start: number | undefined;
  #index = 0;

  /** `requestsPerSecond` undefined means closed model: every slot is due now. */
  constructor(requestsPerSecond: number | undefined, clock: Clock = systemClock) {
    this.#clock = clock;
    this.#intervalMs = requestsPerSecond === undefined ? undefined : 1000 / requestsPerSecond;
  }

  /** When slot `index` is due, relative to the first slot. */
  offsetOf(index: number): number {
    return this.#intervalMs === undefined ? 0 : index * this.#intervalMs;
  }

  /** Waits until the next slot is due (never waits for an overdue one) and returns it. */
  async next(): Promise<Slot> {
    const now = this.#clock.now();
    this.#start ??= now;
    const index = this.#index++;
    if (this.#intervalMs === undefined) return { index, dueAt: now };
    const dueAt = this.#start + this.offsetOf(index);
    // Timers are only good to about a millisecond: sleeping for less would make the
    // generator later, not more precise.
    if (dueAt - now >= 1) await this.#clock.sleep(dueAt - now);
    return { index, dueAt };
  }
}

/** A counting semaphore bounding requests in flight. */
export class Gate {
  #free: number;
  readonly #waiters: Array<() => void> = [];
  constructor(readonly size: number) {
    this.#free = size;
  }
  /** Requests currently holding a place. */
  get inFlight(): number {
    return this.size - this.#free;
  }
  /** Resolves once a place is free and takes it. */
  acquire(): Promise<void> {
    if (this.#free > 0) {
      this.#free -= 1;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.#waiters.push(resolve));
  }
  /** Gives a place back (to the longest waiter first). */
  release(): void {
    const waiter = this.#waiters.shift();
    if (waiter) waiter();
    else this.#free += 1;
  }
  /** Resolves when nothing is in flight any more. */
  async drained(clock: Clock = systemClock): Promise<void> {
    while (this.inFlight > 0) await clock.sleep(5);
  }
}

/** How well the schedule was kept, for the report. */
export interface PacingSummary {
  offeredRate?: number;
  /** Payments per second actually started. */
  sentRate: number;
  /** Requests that started more than {@linkcode LATE_THRESHOLD_MS} behind schedule. */
  lateRequests: number;
  maxLateMs: number;
  /** False when an offered rate was given and not kept. */
  kept: boolean;
}

/** A request starting later than this behind schedule counts as late. */
export const LATE_THRESHOLD_MS = 10;

/**
 * Judges the pacing: the offered rate counts as kept when at least 95% of it was
 * sent and no more than 1% of requests started late.
 */
export function summarizePacing(args: {
  offeredRate?: number;
  sentPayments: number;
  sendingMs: number;
  requests: number;
  lateRequests: number;
  maxLateMs: number;
}): PacingSummary {
  const sentRate = args.sendingMs > 0 ? args.sentPayments / (args.sendingMs / 1000) : 0;
  const kept = args.offeredRate === undefined ||
    (sentRate >= 0.95 * args.offeredRate && args.lateRequests <= 0.01 * args.requests);
  return {
    ...(args.offeredRate !== undefined ? { offeredRate: args.offeredRate } : {}),
    sentRate,
    lateRequests: args.lateRequests,
    maxLateMs: args.maxLateMs,
    kept,
  };
}
