/**
 * How much `deno task bench` measures: record counts, run lengths, batch sizes,
 * concurrencies and offered rates of the short (default) and `--full` runs.
 *
 * @module
 */

/** What a bench run measures and for how long. */
export interface Plan {
  perfRecords: number;
  bare: Array<{ batch: number; records: number }>;
  http: Array<{ batch: number; concurrency: number }>;
  httpMs: number;
  drainRecords: number;
  e2e: Array<{ rate: number; batch: number }>;
  e2eMs: number;
  /**
   * The overload row: closed model, far more requests in flight than the budgets take.
   * Its warm-up is long because Deno.serve listens with a backlog of 128: the first of
   * thousands of connections wait for SYN retransmits (1 s, 3 s, 7 s) to get in.
   */
  overload: { batch: number; concurrency: number; durationMs: number; warmupMs: number };
  /** Unmeasured run of the same shape before each HTTP and end-to-end row (JIT, pools). */
  warmupMs: number;
  /** Decisions behind a consumer restart, one pair of rows each. */
  restartSizes: number[];
  /** Payments drained by one, two and three instances in the scale-out rows. */
  scaleoutRecords: number;
  /** Payments of the burst decided just before the "restart right after a burst" row. */
  burstRecords: number;
  /** Decisions in the changelog behind the hand-over rows, smallest first. */
  handoverSizes: number[];
  /**
   * Status reads: `GET /payments/{id}` per second, and how many alternating drains
   * without and with them (each of `drainRecords` records).
   */
  statusReads: { rate: number; pairs: number };
  /**
   * Tracing off, at the default sampling and at 100%: rounds of the three (each a fresh
   * producer for `httpMs`, and a consumer draining `drainRecords`).
   */
  tracing: { rounds: number; drainRecords: number };
}

/** The default (short) plan and the `--full` one. */
export const PLANS: Record<"short" | "full", Plan> = {
  short: {
    perfRecords: 200_000,
    bare: [{ batch: 1, records: 5_000 }, { batch: 10, records: 20_000 }, {
      batch: 100,
      records: 30_000,
    }],
    http: [
      { batch: 1, concurrency: 8 },
      { batch: 10, concurrency: 8 },
      { batch: 100, concurrency: 4 },
      { batch: 100, concurrency: 16 },
    ],
    httpMs: 5_000,
    drainRecords: 30_000,
    e2e: [{ rate: 200, batch: 1 }, { rate: 1000, batch: 10 }, { rate: 5000, batch: 50 }],
    e2eMs: 6_000,
    overload: { batch: 100, concurrency: 2048, durationMs: 8_000, warmupMs: 10_000 },
    warmupMs: 1_000,
    restartSizes: [10_000, 100_000, 1_000_000],
    scaleoutRecords: 60_000,
    burstRecords: 100_000,
    handoverSizes: [20_000, 200_000],
    statusReads: { rate: 500, pairs: 2 },
    tracing: { rounds: 2, drainRecords: 20_000 },
  },
  full: {
    perfRecords: 1_000_000,
    bare: [{ batch: 1, records: 20_000 }, { batch: 10, records: 100_000 }, {
      batch: 100,
      records: 100_000,
    }],
    http: [
      { batch: 1, concurrency: 1 },
      { batch: 1, concurrency: 8 },
      { batch: 1, concurrency: 32 },
      { batch: 10, concurrency: 8 },
      { batch: 10, concurrency: 32 },
      { batch: 100, concurrency: 4 },
      { batch: 100, concurrency: 16 },
      { batch: 100, concurrency: 32 },
    ],
    httpMs: 15_000,
    drainRecords: 100_000,
    e2e: [
      { rate: 200, batch: 1 },
      { rate: 1000, batch: 1 },
      { rate: 1000, batch: 10 },
      { rate: 5000, batch: 50 },
    ],
    e2eMs: 20_000,
    overload: { batch: 100, concurrency: 2048, durationMs: 20_000, warmupMs: 15_000 },
    warmupMs: 3_000,
    restartSizes: [10_000, 100_000, 1_000_000],
    scaleoutRecords: 200_000,
    burstRecords: 400_000,
    handoverSizes: [20_000, 1_000_000],
    statusReads: { rate: 500, pairs: 3 },
    tracing: { rounds: 3, drainRecords: 60_000 },
  },
};
