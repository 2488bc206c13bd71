/**
 * The timestamp of the record at an offset, from the broker's time index alone.
 *
 * The broker answers ListOffsets by timestamp (`fetchTopicOffsetsByTimestamp`) with the
 * first offset whose timestamp is at or after `T`. That offset is `<= c` exactly when
 * some record at or before `c` has a timestamp `>= T`, so a search over `T` finds the
 * timestamp of record `c` (with out-of-order CreateTime timestamps: the newest
 * timestamp up to `c`, the closest answer the broker's time index can give). The
 * search costs a handful of requests: exponential probing back from now, then
 * bisection to 1% of the age.
 *
 * @module
 */

/**
 * The timestamp of the record at `offset`, found with `firstOffsetAtOrAfter(T)` (the
 * broker's ListOffsets by timestamp): the largest `T` whose answer is `<= offset`.
 * `lowerBound` is a timestamp known to satisfy that (e.g. a previous answer for a
 * smaller offset); `now` bounds the search from above.
 *
 * @example
 * ```ts
 * const at = await recordTimestamp(async (t) => firstOffsetAt(t), 41, Date.now());
 * ```
 */
export async function recordTimestamp(
  firstOffsetAtOrAfter: (timestamp: number) => Promise<number>,
  offset: number,
  now: number,
  lowerBound = 0,
): Promise<number> {
  const reached = async (t: number) => (await firstOffsetAtOrAfter(t)) <= offset;
  if (await reached(now)) return now; // the record is from the future (clock skew): age 0
  let lo = lowerBound;
  let hi = now;
  // Exponential probing back from now: cheap when the record is recent.
  for (let step = 1000; now - step > lo; step *= 2) {
    const t = now - step;
    if (await reached(t)) {
      lo = t;
      break;
    }
    hi = t;
  }
  while (hi - lo > Math.max(1, Math.floor((now - hi) / 100))) {
    const mid = Math.floor((lo + hi) / 2);
    if (await reached(mid)) lo = mid;
    else hi = mid;
  }
  return lo;
}
