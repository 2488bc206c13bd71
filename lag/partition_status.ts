/**
 * Burrow's partition status from a window of lag samples: whether a group keeps up
 * with a partition, falls behind, has stalled, stopped, or went back.
 *
 * @module
 */

/** Burrow's partition states. */
export type PartitionStatus = "ok" | "warn" | "stall" | "stop" | "rewind";
/** Every status, so each partition exports all five 0/1 series. */
export const PARTITION_STATUSES: readonly PartitionStatus[] = [
  "ok",
  "warn",
  "stall",
  "stop",
  "rewind",
];

/** One observation kept for the status rules. */
export interface LagSample {
  position: number;
  lag: number;
}

/**
 * Burrow's rules over a window of samples (oldest first), in order: the position
 * went back (rewind); nobody consumes and records wait (stop); lag was zero somewhere
 * in the window (ok); a full window without progress while records wait (stall);
 * progress, but lag grew across the whole full window (warn); otherwise ok.
 *
 * @example
 * ```ts
 * partitionStatus([{ position: 5, lag: 3 }, { position: 5, lag: 6 }], true, 2); // "stall"
 * ```
 */
export function partitionStatus(
  samples: readonly LagSample[],
  groupActive: boolean,
  windowSize: number,
): PartitionStatus {
  const last = samples[samples.length - 1];
  if (!last) return "ok";
  for (let i = 1; i < samples.length; i++) {
    if (samples[i]!.position < samples[i - 1]!.position) return "rewind";
  }
  if (!groupActive && last.lag > 0) return "stop";
  if (samples.some((sample) => sample.lag === 0)) return "ok";
  if (samples.length < windowSize) return "ok";
  const first = samples[0]!;
  if (first.position === last.position) return "stall";
  let growing = last.lag > first.lag;
  for (let i = 1; i < samples.length; i++) {
    if (samples[i]!.lag < samples[i - 1]!.lag) growing = false;
  }
  return growing ? "warn" : "ok";
}
