/**
 * Soak support (`--watch-rss`): samples `process_resident_memory_bytes` from the
 * services' `/metrics` on a timer, so a long run shows whether memory stays flat.
 *
 * @module
 */
import { metricValue } from "@payments/shared/metrics";

/** The memory of one service over a run. */
export interface RssSeries {
  url: string;
  /** Seconds since the run started and RSS in MiB. */
  samples: Array<[number, number]>;
  firstMiB?: number;
  maxMiB?: number;
  lastMiB?: number;
  /** Mean of the last quarter of samples minus the mean of the second quarter, in MiB. */
  growthMiB?: number;
}

/** Summarizes a series: first, max, last and growth between the run's middle and end. */
export function summarizeRss(url: string, samples: Array<[number, number]>): RssSeries {
  if (samples.length === 0) return { url, samples };
  const values = samples.map(([, v]) => v);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  const q = Math.floor(values.length / 4);
  // The first quarter is warm-up (JIT, pools, caches filling): growth is judged after it.
  const growth = q > 0 ? mean(values.slice(-q)) - mean(values.slice(q, 2 * q)) : undefined;
  const round = (v: number) => Math.round(v * 10) / 10;
  return {
    url,
    samples,
    firstMiB: round(values[0]!),
    maxMiB: round(Math.max(...values)),
    lastMiB: round(values.at(-1)!),
    ...(growth !== undefined ? { growthMiB: round(growth) } : {}),
  };
}

/** Samples every `everyMs`; `stop()` returns the series. */
export function startRssSampler(
  urls: string[],
  everyMs: number,
  fetchFn: typeof fetch = fetch,
): { stop(): Promise<RssSeries[]> } {
  const started = performance.now();
  const series = urls.map(() => [] as Array<[number, number]>);
  const sample = () =>
    Promise.all(urls.map(async (url, i) => {
      try {
        const response = await fetchFn(url, { signal: AbortSignal.timeout(5000) });
        const bytes = metricValue(await response.text(), "process_resident_memory_bytes");
        if (bytes !== undefined) {
          series[i]!.push([
            Math.round((performance.now() - started) / 100) / 10,
            bytes / 1024 / 1024,
          ]);
        }
      } catch { /* a missed sample is not worth stopping a soak for */ }
    }));
  let pending = sample();
  const timer = setInterval(() => {
    pending = pending.then(sample);
  }, everyMs);
  let stopped: Promise<RssSeries[]> | undefined;
  return {
    stop() {
      stopped ??= (async () => {
        clearInterval(timer);
        await pending;
        await sample();
        return urls.map((url, i) => summarizeRss(url, series[i]!));
      })();
      return stopped;
    },
  };
}
