/**
 * Live progress of a load run: a `cli-progress` bar on a TTY, one plain line every
 * few seconds otherwise (logs, CI), or nothing. Written to stderr so stdout carries
 * only the report.
 *
 * @module
 */
// @ts-types="./cli_progress.d.ts"
import cliProgress from "cli-progress";
import process from "node:process";

/** One progress sample. */
export interface ProgressSnapshot {
  elapsedMs: number;
  sent: number;
  accepted: number;
  rejected: number;
  errors: number;
  /** Payments of requests the producer shed (503 overloaded). */
  shed: number;
  /** Payments per second answered during the last interval. */
  rate: number;
  p50: number;
  p99: number;
  /** Progress towards the end: payments or seconds. */
  value: number;
  total: number;
  /** A short phase note, e.g. "sending" or "verifying: 120 outstanding". */
  phase: string;
}

/** Where progress goes. */
export interface Progress {
  update(snapshot: ProgressSnapshot): void;
  stop(): void;
}

const n = (value: number) => Math.round(value).toLocaleString("en-US");

/** One plain progress line. */
export function progressLine(s: ProgressSnapshot): string {
  return `[${(s.elapsedMs / 1000).toFixed(1).padStart(6)}s] ${s.phase}: sent ${n(s.sent)}, ` +
    `accepted ${n(s.accepted)}, rejected ${n(s.rejected)}, shed ${n(s.shed)}, ` +
    `errors ${n(s.errors)} | ` +
    `${n(s.rate)}/s | p50 ${s.p50.toFixed(1)} ms p99 ${s.p99.toFixed(1)} ms`;
}

/** Progress that prints a line every `everyMs` (and on the first sample). */
export function plainProgress(
  write: (line: string) => void,
  everyMs = 5000,
): Progress {
  let last = -Infinity;
  return {
    update(s) {
      if (s.elapsedMs - last < everyMs) return;
      last = s.elapsedMs;
      write(progressLine(s));
    },
    stop() {},
  };
}

/** A progress bar on stderr. */
export function barProgress(): Progress {
  const bar = new cliProgress.SingleBar({
    format: "{bar} {percentage}% | {phase} | sent {sent} ok {accepted} rej {rejected} " +
      "shed {shed} err {errors} | {rate}/s | p50 {p50} p99 {p99} ms",
    stream: process.stderr,
    hideCursor: true,
    barsize: 24,
    fps: 5,
  }, cliProgress.Presets.shades_classic);
  let started = false;
  return {
    update(s) {
      const payload = {
        phase: s.phase,
        sent: n(s.sent),
        accepted: n(s.accepted),
        rejected: n(s.rejected),
        errors: n(s.errors),
        shed: n(s.shed),
        rate: n(s.rate),
        p50: s.p50.toFixed(1),
        p99: s.p99.toFixed(1),
      };
      const value = Math.min(s.value, s.total);
      if (!started) {
        bar.start(s.total, value, payload);
        started = true;
      } else {
        bar.update(value, payload);
      }
    },
    stop() {
      if (started) bar.stop();
    },
  };
}

/** Picks the progress output for a mode: the bar only when stderr is a terminal. */
export function createProgress(mode: "auto" | "plain" | "none"): Progress {
  if (mode === "none") return { update() {}, stop() {} };
  if (mode === "auto" && Deno.stderr.isTerminal()) return barProgress();
  const encoder = new TextEncoder();
  return plainProgress((line) => Deno.stderr.writeSync(encoder.encode(line + "\n")));
}
