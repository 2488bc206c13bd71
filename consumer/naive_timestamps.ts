/**
 * Makes producers that send `created_at` without an offset visible: the consumer reads
 * such a time as UTC (the lab's containers run in UTC), which is right only while the
 * producer's clock is in UTC, so an operator should know who relies on it.
 *
 * @module
 */
import type { Logger } from "@logtape/logtape";
import type { Counter } from "prom-client";

/** Distinct `source` label values counted by name; later ones count as `other`. */
export const MAX_NAIVE_SOURCES = 20;

/** What {@linkcode createNaiveTimestampNotice} reports to. */
export interface NaiveTimestampDeps {
  /** `payments_naive_timestamps_total{source}`. */
  counter: Counter<"source">;
  logger: Logger;
  maxSources?: number;
}

/**
 * Returns the callback for one payment whose `created_at` had no offset: it counts the
 * payment by its `source` and logs one warning the first time a source does it, so
 * the log names each such producer once however many payments it sends. The `source`
 * comes from the record, so the label values are capped at `maxSources`.
 *
 * @example
 * ```ts
 * const noticeNaive = createNaiveTimestampNotice({ counter: metrics.naiveTimestamps, logger });
 * if (parsed.kind === "payment" && parsed.naiveCreatedAt) noticeNaive(parsed.event);
 * ```
 */
export function createNaiveTimestampNotice(
  deps: NaiveTimestampDeps,
): (event: { source: string; created_at: string }) => void {
  const maxSources = deps.maxSources ?? MAX_NAIVE_SOURCES;
  const named = new Set<string>();
  let otherLogged = false;
  const warn = (source: string, createdAt: string) =>
    deps.logger.warn(
      "Payments from source {source} carry created_at without an offset ({created_at}); " +
        "reading it as UTC",
      {
        source,
        created_at: createdAt.replace(/Z$/, ""),
        metric: "payments_naive_timestamps_total",
      },
    );
  return ({ source, created_at }) => {
    let label = source;
    if (!named.has(source)) {
      if (named.size < maxSources) {
        named.add(source);
        warn(source, created_at);
      } else {
        label = "other";
        if (!otherLogged) warn(`other (more than ${maxSources} sources)`, created_at);
        otherLogged = true;
      }
    }
    deps.counter.labels(label).inc();
  };
}
