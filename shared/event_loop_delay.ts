/**
 * How late the event loop runs a timer, measured by the service itself: prom-client's
 * `nodejs_eventloop_lag_*` read Node's `monitorEventLoopDelay`, which under Deno 2.9
 * reports under a millisecond while the loop is blocked for 200 ms (measured here).
 * A timer every `intervalMs` notes how much later than asked it ran; a loop blocked by
 * a synchronous step shows up as one late tick of about that step's length.
 *
 * - `event_loop_delay_seconds` (histogram): each tick's lateness;
 * - `event_loop_delay_max_seconds` (gauge): the largest since the process started.
 *
 * @module
 */
import { Gauge, Histogram, type Registry } from "prom-client";

/** The monitor's handle. */
export interface EventLoopDelayMonitor {
  /** The largest lateness seen so far, in seconds. */
  max(): number;
  stop(): void;
}

/** Buckets from a millisecond (timer noise) to seconds (a stall). */
const BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/**
 * Starts measuring on `registry`; the timer never keeps the process alive.
 *
 * @example
 * ```ts
 * const loop = monitorEventLoopDelay(registry);
 * // ... at shutdown
 * loop.stop();
 * ```
 */
export function monitorEventLoopDelay(
  registry: Registry,
  intervalMs = 20,
): EventLoopDelayMonitor {
  let max = 0;
  const histogram = new Histogram({
    name: "event_loop_delay_seconds",
    help:
      `How much later than asked a ${intervalMs} ms timer ran: the event loop was blocked that long`,
    buckets: BUCKETS,
    registers: [registry],
  });
  new Gauge({
    name: "event_loop_delay_max_seconds",
    help: "The longest the event loop was blocked since the process started",
    registers: [registry],
    collect() {
      this.set(max);
    },
  });
  let expected = performance.now() + intervalMs;
  const schedule = () => {
    const handle = setTimeout(tick, intervalMs);
    Deno.unrefTimer(handle);
    return handle;
  };
  let timer: ReturnType<typeof setTimeout>;
  function tick() {
    const now = performance.now();
    const late = Math.max(0, now - expected) / 1000;
    histogram.observe(late);
    if (late > max) max = late;
    expected = now + intervalMs;
    timer = schedule();
  }
  timer = schedule();
  return {
    max: () => max,
    stop() {
      clearTimeout(timer);
    },
  };
}
