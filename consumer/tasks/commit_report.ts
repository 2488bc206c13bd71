/**
 * What a committed (or failed) transaction tells the outside world: metrics, one log
 * line per record, the naive-timestamp notice. A task hands it one summary per commit,
 * after its store and caches took the same answers, so what is counted is exactly
 * what Kafka committed.
 *
 * @module
 */
import { type Logger, withContext } from "@logtape/logtape";
import { isProducerFenced } from "@payments/shared/kafka_errors";
import { observeWithExemplar } from "@payments/shared/metrics";
import type { Answer } from "../answer.ts";
import { describeCrashCause } from "../crash.ts";
import type { ConsumerMetrics } from "../metrics.ts";
import { createNaiveTimestampNotice } from "../naive_timestamps.ts";
import { TransactionError } from "../transaction.ts";

/** One committed transaction of one partition. */
export interface CommitSummary {
  partition: number;
  answers: readonly Answer[];
  /** Transaction time, from its first send to the commit. */
  seconds: number;
  /** When the commit was seen. */
  committedAtMs: number;
  /** Decisions the partition's store remembers after it. */
  storeEntries: number;
}

/** What the reporter writes to. */
export interface CommitReportDeps {
  metrics: ConsumerMetrics;
  logger: Logger;
  /** The input topic (metric label). */
  topic: string;
}

/** Reports commits and failed transactions. */
export interface CommitReporter {
  committed(summary: CommitSummary): void;
  failed(partition: number, first: string, last: number, error: unknown): void;
  /** Kafka has a commit the partition's store could not take. */
  storeBehind(partition: number, error: unknown): void;
}

const roundMs = (seconds: number) => Math.round(seconds * 1000 * 100) / 100;

/** Creates the reporter. */
export function createCommitReporter(deps: CommitReportDeps): CommitReporter {
  const { metrics, logger, topic } = deps;
  const noticeNaive = createNaiveTimestampNotice({ counter: metrics.naiveTimestamps, logger });

  function observe(a: Answer, committedAtMs: number) {
    const status = a.kind === "dead_letter" ? "failed" : "success";
    metrics.consumed.labels(topic, status).inc();
    const exemplar = { traceparent: a.trace.traceparent, correlationId: a.trace.correlation_id };
    observeWithExemplar(
      metrics.processingDuration,
      { topic, status },
      a.processingSeconds,
      exemplar,
    );
    if (a.kind === "dead_letter") {
      metrics.deadLetters.labels(a.reason).inc();
      return;
    }
    const createdAt = Date.parse(a.event.created_at);
    observeWithExemplar(
      metrics.endToEndLatency,
      { topic },
      Math.max(0, (committedAtMs - createdAt) / 1000),
      exemplar,
    );
    metrics.results.labels(a.outcome).inc();
  }

  function log(a: Answer, partition: number, seconds: number) {
    withContext(a.trace, () => {
      const fields = {
        payment_id: a.event?.payment_id ?? null,
        partition,
        offset: a.offset,
        processing_ms: roundMs(a.processingSeconds),
        commit_ms: roundMs(seconds),
        ...a.log,
      };
      if (a.kind === "dead_letter") {
        logger.warn("Record {partition}@{offset} dead-lettered: {reason}", fields);
      } else {
        logger.info("Payment {payment_id} {outcome}", fields);
      }
    });
  }

  return {
    committed({ partition, answers, seconds, committedAtMs, storeEntries }) {
      metrics.stateEntries.labels(String(partition)).set(storeEntries);
      metrics.transactionDuration.labels("committed").observe(seconds);
      metrics.transactionRecords.observe(answers.length);
      for (const a of answers) {
        // After the commit, not when read: a chunk whose transaction failed is read again.
        if (a.naiveCreatedAt && a.event) noticeNaive(a.event);
        observe(a, committedAtMs);
        log(a, partition, seconds);
      }
    },
    failed(partition, first, last, error) {
      const fenced = isProducerFenced(error);
      if (error instanceof TransactionError) {
        metrics.transactionDuration.labels("aborted").observe(error.seconds);
      }
      metrics.errors.labels(fenced ? "fenced" : "transaction").inc();
      logger.error(
        "Transaction for partition {partition} offsets {first}..{last} failed{fenced}: {reason}",
        {
          partition,
          first,
          last,
          fenced: fenced ? " (fenced)" : "",
          reason: describeCrashCause(error),
        },
      );
    },
    storeBehind(partition, error) {
      // Kafka has the answers; the store is only behind. Preparing the partition
      // again reads what it missed from the changelog before anything is decided.
      metrics.errors.labels("state_store").inc();
      logger.error("Cannot update the store of partition {partition}: {error}", {
        partition,
        error,
      });
    },
  };
}
