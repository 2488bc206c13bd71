/**
 * Mutes the one warning kafkajs 2.2.4 triggers on every connection under Deno.
 *
 * Its request queue calls `setTimeout(fn, throttledUntil - Date.now())` with
 * `throttledUntil = -1`, so the delay is about minus the epoch; Node-compatible timers
 * clamp it to 1 ms (what kafkajs meant) and print a `TimeoutNegativeWarning` on stderr.
 *
 * @module
 */
import process from "node:process";

let installed = false;

/** Drops `TimeoutNegativeWarning`s process-wide; every other warning passes through. Idempotent. */
export function muteKafkajsTimeoutWarning(): void {
  if (installed) return;
  installed = true;
  const original = process.emitWarning;
  process.emitWarning = function (warning: string | Error, ...rest: unknown[]) {
    const option = rest[0];
    const type = typeof option === "string"
      ? option
      : (option as { type?: unknown } | undefined)?.type;
    const name = warning instanceof Error ? warning.name : type;
    if (name === "TimeoutNegativeWarning") return;
    return (original as (...args: unknown[]) => void).call(process, warning, ...rest);
  } as typeof process.emitWarning;
}
