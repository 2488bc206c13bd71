/**
 * Status reads at a fixed rate: `GET /payments/{id}` for ids drawn at random from a
 * set, open model (request `i` is due at `start + i / rate`, whatever the answers
 * before it), at most `concurrency` in flight. Latency is from each request's start to
 * its answer; requests that started late are counted, so a row can say whether the
 * offered rate was kept.
 *
 * @module
 */
import { seededRandom } from "../random.ts";
import {
  Gate,
  LATE_THRESHOLD_MS,
  Pacer,
  type PacingSummary,
  summarizePacing,
} from "../scheduler.ts";
import { Latency, type LatencySummary } from "../stats.ts";

/** What a run of status reads did. */
export interface StatusLoad {
  latency: LatencySummary;
  /** Answers by HTTP status (`"200"`, `"404"`, ...), and `"error"` for no answer. */
  answers: Record<string, number>;
  pacing: PacingSummary;
}

/** Options of {@linkcode readStatusesAt}. */
export interface StatusLoadOptions {
  /** The producer's base URL. */
  url: string;
  ids: readonly string[];
  /** Requests per second. */
  rate: number;
  /** Ends the run (whichever comes first with `signal`). */
  durationMs?: number;
  signal?: AbortSignal;
  /** Requests in flight at most (default 32). */
  concurrency?: number;
  seed?: number;
}

/** Reads statuses at `rate` until `durationMs` passed or `signal` aborted. */
export async function readStatusesAt(options: StatusLoadOptions): Promise<StatusLoad> {
  if (options.ids.length === 0) throw new Error("no payment ids to read");
  const random = seededRandom(options.seed ?? 7);
  const pacer = new Pacer(options.rate);
  const gate = new Gate(options.concurrency ?? 32);
  const latency = new Latency();
  const answers: Record<string, number> = {};
  const count = (key: string) => answers[key] = (answers[key] ?? 0) + 1;
  let requests = 0;
  let late = 0;
  let maxLateMs = 0;
  const start = performance.now();
  const done = () =>
    options.signal?.aborted === true ||
    (options.durationMs !== undefined && performance.now() - start >= options.durationMs);

  const read = async (id: string) => {
    const started = performance.now();
    try {
      const response = await fetch(`${options.url}/payments/${id}`, {
        signal: AbortSignal.timeout(10_000),
      });
      await response.body?.cancel();
      latency.record(performance.now() - started);
      count(String(response.status));
    } catch {
      count("error");
    } finally {
      gate.release();
    }
  };

  while (!done()) {
    const slot = await pacer.next();
    if (done()) break;
    await gate.acquire();
    const lateMs = performance.now() - slot.dueAt;
    if (lateMs > LATE_THRESHOLD_MS) late++;
    maxLateMs = Math.max(maxLateMs, lateMs);
    requests++;
    read(options.ids[random.int(options.ids.length)]!);
  }
  const sendingMs = performance.now() - start;
  await gate.drained();
  return {
    latency: latency.summary(),
    answers,
    pacing: summarizePacing({
      offeredRate: options.rate,
      sentPayments: requests,
      sendingMs,
      requests,
      lateRequests: late,
      maxLateMs,
    }),
  };
}
