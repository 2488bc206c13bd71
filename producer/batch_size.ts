/**
 * How the producer's metrics group requests by size: the buckets of
 * `payment_batch_size` and the `batch_size_range` label of `payments_produced_total`,
 * both the lab's, so its dashboards keep working.
 *
 * @module
 */

/** Batch size buckets of `payment_batch_size` (the lab's). */
export const BATCH_SIZE_BUCKETS = [1, 5, 10, 25, 50, 100, 250, 500];

/** Values of the `batch_size_range` label, smallest first (the lab's five ranges). */
export const BATCH_SIZE_RANGES = ["single", "small", "medium", "large", "xlarge"] as const;

/**
 * Label value of `batch_size_range`: single (1), small (2-10), medium (11-50),
 * large (51-100), xlarge (101-500).
 */
export function batchSizeRange(size: number): (typeof BATCH_SIZE_RANGES)[number] {
  if (size <= 1) return "single";
  if (size <= 10) return "small";
  if (size <= 50) return "medium";
  if (size <= 100) return "large";
  return "xlarge";
}
