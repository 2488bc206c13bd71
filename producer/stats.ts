/**
 * The lab's producer statistics (`GET /stats`): totals since the process started.
 *
 * @module
 */

/** Snapshot returned by `GET /stats`. */
export interface StatsSnapshot {
  started_at: string;
  uptime_seconds: number;
  total_requests: number;
  total_batches: number;
  total_payments: number;
  successful_payments: number;
  failed_payments: number;
  rejected_requests: number;
  /** Refused at once because the producer was at capacity (503 overloaded). */
  shed_requests: number;
  average_batch_size: number;
  average_processing_time_ms: number;
  last_payment_at: string | null;
}

/** Counters behind `/stats`; one instance per app. */
export class ProducerStats {
  readonly #startedAt: Date;
  readonly #now: () => Date;
  #requests = 0;
  #batches = 0;
  #successful = 0;
  #failed = 0;
  #rejected = 0;
  #shed = 0;
  #processingMs = 0;
  #lastPaymentAt: Date | null = null;

  constructor(now: () => Date = () => new Date()) {
    this.#now = now;
    this.#startedAt = now();
  }

  /** A request whose payments Kafka acknowledged (or not). */
  recordPublish(count: number, ok: boolean, processingMs: number, batch: boolean): void {
    this.#requests++;
    if (batch) this.#batches++;
    if (ok) {
      this.#successful += count;
      this.#lastPaymentAt = this.#now();
    } else {
      this.#failed += count;
    }
    this.#processingMs += processingMs;
  }

  /** A payment request refused before publishing (4xx). */
  recordRejected(): void {
    this.#requests++;
    this.#rejected++;
  }

  /** A payment request shed before publishing: nothing of it was sent (503 overloaded). */
  recordShed(): void {
    this.#requests++;
    this.#shed++;
  }

  snapshot(): StatsSnapshot {
    const published = this.#requests - this.#rejected - this.#shed;
    const total = this.#successful + this.#failed;
    return {
      started_at: this.#startedAt.toISOString(),
      uptime_seconds: Math.round((this.#now().getTime() - this.#startedAt.getTime()) / 10) / 100,
      total_requests: this.#requests,
      total_batches: this.#batches,
      total_payments: total,
      successful_payments: this.#successful,
      failed_payments: this.#failed,
      rejected_requests: this.#rejected,
      shed_requests: this.#shed,
      average_batch_size: published === 0 ? 0 : Math.round((total / published) * 100) / 100,
      average_processing_time_ms: published === 0
        ? 0
        : Math.round((this.#processingMs / published) * 1000) / 1000,
      last_payment_at: this.#lastPaymentAt?.toISOString() ?? null,
    };
  }
}
