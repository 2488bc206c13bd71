/**
 * A small seeded random source for reproducible load data: mulberry32 for uniform
 * numbers, Box-Muller for normals, and precomputed Zipf tables for skewed picks.
 *
 * @module
 */

/** A seeded random source. */
export interface Random {
  /** Uniform in [0, 1). */
  next(): number;
  /** Standard normal (mean 0, standard deviation 1). */
  normal(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
}

/**
 * A deterministic random source: the same seed yields the same sequence.
 *
 * @example
 * ```ts
 * const a = seededRandom(42), b = seededRandom(42);
 * a.next() === b.next(); // true
 * ```
 */
export function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  const next = () => {
    // mulberry32: tiny, fast, and good enough for test data.
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    normal: () => {
      const u = 1 - next(); // (0, 1]: log(0) would be -Infinity
      return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * next());
    },
    int: (n) => Math.floor(next() * n),
  };
}

/**
 * Picks ranks 0..n-1 with probability proportional to 1 / (rank + 1)^s: a few
 * merchants and customers carry most of the traffic, as in real payment streams.
 */
export function zipfPicker(n: number, s: number): (random: Random) => number {
  const cdf = new Float64Array(n);
  let total = 0;
  for (let i = 0; i < n; i++) {
    total += 1 / Math.pow(i + 1, s);
    cdf[i] = total;
  }
  return (random) => {
    const target = random.next() * total;
    let lo = 0, hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cdf[mid]! < target) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

/** Picks one of `items` by relative weight. */
export function weightedPicker<T>(items: ReadonlyArray<readonly [T, number]>) {
  const total = items.reduce((sum, [, w]) => sum + w, 0);
  return (random: Random): T => {
    let target = random.next() * total;
    for (const [item, weight] of items) {
      target -= weight;
      if (target < 0) return item;
    }
    return items[items.length - 1]![0];
  };
}
