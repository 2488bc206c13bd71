/**
 * One load run: checks the target, starts the results reader for `--verify`, sends
 * on schedule within the concurrency bound, waits for every answer (and, with
 * verify, every result), and returns the {@linkcode LoadReport}.
 *
 * @module
 */
import { AcceptedPool, createPaymentGenerator } from "./data.ts";
import { checkTarget, isShed, postPayments, type Target, TargetError } from "./client.ts";
import { type LoadMetrics, noMetrics } from "./metrics.ts";
import type { LoadOptions } from "./options.ts";
import type { Progress, ProgressSnapshot } from "./progress.ts";
import { seededRandom } from "./random.ts";
import type { LoadReport } from "./report.ts";
import {
  type Clock,
  Gate,
  LATE_THRESHOLD_MS,
  Pacer,
  summarizePacing,
  systemClock,
} from "./scheduler.ts";
import { LoadStats } from "./stats.ts";
import { ResultTracker } from "./tracker.ts";
import { captureOffsets, type ResultReader, startResultReader, waitForResults } from "./verify.ts";

/** What a run needs from its surroundings; everything has a default. */
export interface RunDeps {
  fetch?: typeof fetch;
  clock?: Clock;
  progress?: Progress;
  metrics?: LoadMetrics;
  /** Aborting stops sending (and waiting for results): Ctrl-C. */
  signal?: AbortSignal;
  /** Milliseconds between progress samples (default 1000). */
  tickMs?: number;
}

/** The payment-id prefix of a run: every id the run sends starts with it. */
export function idPrefix(runId: string): string {
  return `lg-${runId}-`;
}

/**
 * Runs a load. Throws {@linkcode TargetError} when the producer is unreachable or
 * refuses the API key (before or during the run) and `VerifyError` when `--verify`
 * cannot reach the results topic; otherwise returns the report, also on abort.
 */
export async function runLoad(options: LoadOptions, deps: RunDeps = {}): Promise<LoadReport> {
  const fetchFn = deps.fetch ?? fetch;
  const clock = deps.clock ?? systemClock;
  const metrics = deps.metrics ?? noMetrics;
  const progress = deps.progress ?? { update() {}, stop() {} };
  const signal = deps.signal ?? new AbortController().signal;
  const target: Target = {
    url: options.url,
    timeoutMs: options.requestTimeoutMs,
    ...(options.apiKey ? { apiKey: options.apiKey } : {}),
  };
  await checkTarget(fetchFn, target);

  let tracker: ResultTracker | undefined;
  let reader: ResultReader | undefined;
  if (options.verify) {
    tracker = new ResultTracker((outcome, ms) =>
      metrics.result(outcome, ms === undefined ? undefined : ms / 1000)
    );
    // Offsets first: every result written after this point belongs to the run or to
    // someone else's traffic, which the id prefix filters out.
    const offsets = await captureOffsets(options.brokers, options.resultsTopic);
    reader = await startResultReader({
      brokers: options.brokers,
      topic: options.resultsTopic,
      idPrefix: idPrefix(options.runId),
      tracker,
      groupId: `loadgen-verify-${options.runId}-${crypto.randomUUID().slice(0, 8)}`,
    }, offsets);
  }

  try {
    return await send(
      options,
      { fetchFn, clock, metrics, progress, signal, target, tracker },
      deps,
    );
  } finally {
    progress.stop();
    await reader?.stop();
  }
}

async function send(
  options: LoadOptions,
  ctx: {
    fetchFn: typeof fetch;
    clock: Clock;
    metrics: LoadMetrics;
    progress: Progress;
    signal: AbortSignal;
    target: Target;
    tracker: ResultTracker | undefined;
  },
  deps: RunDeps,
): Promise<LoadReport> {
  const { clock, metrics, tracker } = ctx;
  const stats = new LoadStats();
  const generator = createPaymentGenerator({
    seed: options.seed,
    runId: options.runId,
    invalidRatio: options.invalidRatio,
    duplicateRatio: options.duplicateRatio,
  });
  const pool = new AcceptedPool();
  const poolRandom = seededRandom(options.seed ^ 0x5bd1e995);
  const jitterRandom = seededRandom(options.seed ^ 0x27d4eb2f);
  const pacer = new Pacer(
    options.rate === undefined ? undefined : options.rate / options.batchSize,
    clock,
  );
  const gate = new Gate(options.concurrency);
  const startedAt = new Date().toISOString();
  const start = clock.now();
  let fatal: Error | undefined;
  let invalidSent = 0;
  /** Payments of new requests: what --count counts (resends of shed ones do not). */
  let generated = 0;
  let phase = "sending";
  let lastTick = { at: start, answered: 0 };

  const tick = () => {
    const now = clock.now();
    const answered = stats.accepted + stats.rejected + stats.errors + stats.shed;
    const seconds = (now - lastTick.at) / 1000;
    const snapshot: ProgressSnapshot = {
      elapsedMs: now - start,
      sent: stats.sent,
      accepted: stats.accepted,
      rejected: stats.rejected,
      errors: stats.errors,
      shed: stats.shed,
      rate: seconds > 0 ? (answered - lastTick.answered) / seconds : 0,
      p50: stats.recent.percentile(50),
      p99: stats.recent.percentile(99),
      value: options.count !== undefined ? generated : (now - start) / 1000,
      total: options.count ?? (options.durationMs ?? 0) / 1000,
      phase: tracker && phase === "verifying"
        ? `verifying, ${tracker.outstanding.toLocaleString("en-US")} results outstanding`
        : phase,
    };
    lastTick = { at: now, answered };
    stats.recent.reset();
    ctx.progress.update(snapshot);
  };
  const ticker = setInterval(tick, deps.tickMs ?? 1000);

  const stopping = () =>
    ctx.signal.aborted || fatal !== undefined ||
    (options.durationMs !== undefined && clock.now() - start >= options.durationMs);

  // With --retry-shed a shed request is sent again, same payments, after its Retry-After
  // plus up to as much again at random: requests shed together must not come back as
  // one herd, or each return is another overload.
  const post = async (request: ReturnType<typeof generator.request>, index: number) => {
    for (let attempt = 0;; attempt++) {
      if (attempt > 0) stats.started(request.ids.length, 0, LATE_THRESHOLD_MS);
      const retryAfterMs = await answer(request, index);
      if (retryAfterMs === undefined || !options.retryShed || stopping()) return;
      await clock.sleep(retryAfterMs * (1 + jitterRandom.next()));
      if (stopping()) return;
    }
  };

  /** Sends one request and books its answer; resolves with Retry-After when it was shed. */
  const answer = async (
    request: ReturnType<typeof generator.request>,
    index: number,
  ): Promise<number | undefined> => {
    const result = await postPayments(
      ctx.fetchFn,
      ctx.target,
      request.payments,
      `${idPrefix(options.runId)}r${index}`,
    );
    const size = request.ids.length;
    if (result.kind === "error") {
      stats.finished({
        kind: "error",
        error: result.error,
        payments: size,
        latencyMs: result.latencyMs,
      });
      metrics.request(result.error, size, false, result.latencyMs / 1000);
      tracker?.unknown(request.ids);
      return undefined;
    }
    const { status } = result;
    const shed = isShed(status, result.body);
    stats.finished({ kind: "response", status, payments: size, latencyMs: result.latencyMs, shed });
    const ok = status >= 200 && status < 300;
    metrics.request(shed ? "shed" : String(status), size, ok, result.latencyMs / 1000);
    if (shed) {
      tracker?.shed(request.ids);
      return (result.retryAfterSeconds ?? 1) * 1000;
    }
    if (ok) {
      tracker?.accepted(request.ids);
      stats.duplicatesAccepted += request.duplicates;
      if (request.invalid) stats.invalidAccepted += 1;
      pool.add(request.fresh, poolRandom);
    } else if (status >= 400 && status < 500) {
      tracker?.rejected(request.ids);
      if (status === 401 || status === 403) {
        fatal ??= new TargetError(
          `The producer rejected the API key during the run (${status}); stopping`,
          false,
        );
      }
    } else {
      tracker?.unknown(request.ids);
    }
    return undefined;
  };

  let sendEnd = start;
  try {
    for (;;) {
      if (ctx.signal.aborted || fatal) break;
      const remaining = options.count === undefined ? Infinity : options.count - generated;
      if (remaining <= 0) break;
      const slot = await pacer.next();
      if (options.durationMs !== undefined && clock.now() - start >= options.durationMs) break;
      await gate.acquire();
      if (ctx.signal.aborted || fatal) {
        gate.release();
        break;
      }
      const size = Math.min(options.batchSize, remaining);
      const request = generator.request(size, pool);
      generated += size;
      const late = options.rate === undefined ? 0 : clock.now() - slot.dueAt;
      stats.started(size, late, LATE_THRESHOLD_MS);
      if (request.invalid) {
        stats.invalidRequests += 1;
        invalidSent += size;
      }
      metrics.inFlight(gate.inFlight);
      post(request, slot.index).finally(() => {
        gate.release();
        metrics.inFlight(gate.inFlight);
      });
    }
    sendEnd = clock.now();
    phase = "draining";
    await gate.drained(clock);
  } finally {
    clearInterval(ticker);
  }
  const end = clock.now();
  if (fatal) throw fatal;

  let verifyTiming = { timedOut: false, waitedMs: 0 };
  if (tracker && !ctx.signal.aborted) {
    phase = "verifying";
    const verifyTicker = setInterval(tick, deps.tickMs ?? 1000);
    try {
      verifyTiming = await waitForResults(tracker, {
        timeoutMs: options.verifyTimeoutMs,
        signal: ctx.signal,
      });
    } finally {
      clearInterval(verifyTicker);
    }
  }

  const sendingMs = Math.max(sendEnd - start, pacer.offsetOf(stats.requests));
  const elapsedMs = end - start;
  return {
    run: {
      runId: options.runId,
      seed: options.seed,
      url: options.url,
      batchSize: options.batchSize,
      concurrency: options.concurrency,
      ...(options.rate !== undefined ? { offeredRate: options.rate } : {}),
      startedAt,
      elapsedMs: Math.round(elapsedMs),
      interrupted: ctx.signal.aborted,
    },
    payments: {
      sent: stats.sent,
      accepted: stats.accepted,
      rejected: stats.rejected,
      errors: stats.errors,
      shed: stats.shed,
      duplicatesAccepted: stats.duplicatesAccepted,
      invalidSent,
      invalidAccepted: stats.invalidAccepted,
    },
    requests: {
      total: stats.requests,
      byStatus: Object.fromEntries([...stats.byStatus].sort(([a], [b]) => a.localeCompare(b))),
    },
    rates: {
      sent: sendingMs > 0 ? stats.sent / (sendingMs / 1000) : 0,
      accepted: elapsedMs > 0 ? stats.accepted / (elapsedMs / 1000) : 0,
    },
    pacing: summarizePacing({
      ...(options.rate !== undefined ? { offeredRate: options.rate } : {}),
      sentPayments: stats.sent,
      sendingMs,
      requests: stats.requests,
      lateRequests: stats.lateRequests,
      maxLateMs: stats.maxLateMs,
    }),
    latencyMs: stats.latency.summary(),
    acceptedLatencyMs: stats.acceptedLatency.summary(),
    shedLatencyMs: stats.shedLatency.summary(),
    ...(tracker ? { verify: tracker.summary(verifyTiming) } : {}),
  };
}
