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
import { isProbePaymentId } from "@payments/shared/probe";
import type { Answer } from "../answer.ts";
import { describeCrashCause } from "../crash.ts";
import type { ConsumerMetrics } from "../metrics.ts";
import { createNaiveTimestampNotice } from "../naive_timestamps.ts";
import { TransactionError } from "../transaction.ts";
import type { TaskId } from "./task_id.ts";

/** One committed transaction of one task. */
export interface CommitSummary {
  id: TaskId;
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
  /** The pipeline's input topic, `payment_requests` (the lab's metrics are labelled with it). */
  topic: string;
}

/** Reports commits and failed transactions. */
export interface CommitReporter {
  committed(summary: CommitSummary): void;
  failed(id: TaskId, first: string, last: number, error: unknown): void;
  /** Kafka has a commit the task's store could not take. */
  storeBehind(id: TaskId, error: unknown): void;
}

const roundMs = (seconds: number) => Math.round(seconds * 1000 * 100) / 100;

/** Creates the reporter. */
export function createCommitReporter(deps: CommitReportDeps): CommitReporter {
  const { metrics, logger, topic } = deps;
  const noticeNaive = createNaiveTimestampNotice({ counter: metrics.naiveTimestamps, logger });

  /** A request answered by a payment task: consumed, and how long its processing took. */
  function observeRequest(a: Answer) {
    const status = a.kind === "dead_letter" ? "failed" : "success";
    metrics.consumed.labels(topic, status).inc();
    observeWithExemplar(
      metrics.processingDuration,
      { topic, status },
      a.processingSeconds,
      { traceId: a.trace.trace_id, correlationId: a.trace.correlation_id },
    );
  }

  /** A result committed: its outcome and how long after `created_at`. */
  function observeResult(a: Answer, committedAtMs: number) {
    if (a.kind !== "decided" && a.kind !== "duplicate") return;
    observeWithExemplar(
      metrics.endToEndLatency,
      { topic },
      Math.max(0, (committedAtMs - Date.parse(a.event.created_at)) / 1000),
      { traceId: a.trace.trace_id, correlationId: a.trace.correlation_id },
    );
    metrics.results.labels(a.outcome).inc();
  }

  function log(a: Answer, id: TaskId, seconds: number, probe: boolean) {
    withContext(a.trace, () => {
      const fields = {
        payment_id: a.event?.payment_id ?? null,
        task: `${id.kind}-${id.partition}`,
        partition: id.partition,
        offset: a.offset,
        processing_ms: roundMs(a.processingSeconds),
        commit_ms: roundMs(seconds),
        ...a.log,
      };
      if (a.kind === "dead_letter") {
        logger.warn("Record {partition}@{offset} of {task} dead-lettered: {reason}", fields);
      } else if (a.kind === "claimed") {
        logger.debug(
          "Payment {payment_id} claimed and forwarded to customers-{customer_partition}",
          fields,
        );
      } else if (probe) {
        logger.debug("Payment {payment_id} {outcome}", fields);
      } else {
        logger.info("Payment {payment_id} {outcome}", fields);
      }
    });
  }

  return {
    committed({ id, answers, seconds, committedAtMs, storeEntries }) {
      metrics.stateEntries.labels(id.kind, String(id.partition)).set(storeEntries);
      metrics.transactionDuration.labels("committed").observe(seconds);
      metrics.transactionRecords.observe(answers.length);
      for (const a of answers) {
        // The producer's end-to-end probe: kept out of the business metrics and the SLO
        // ratios (its own metrics are the producer's), logged at debug.
        const probe = a.event !== undefined && isProbePaymentId(a.event.payment_id);
        if (id.kind === "payments") {
          // After the commit, not when read: a chunk whose transaction failed is read again.
          if (a.kind !== "decided" && a.naiveCreatedAt && a.event) noticeNaive(a.event);
          if (!probe) observeRequest(a);
        }
        if (!probe) {
          if (a.kind === "dead_letter") metrics.deadLetters.labels(a.reason).inc();
          observeResult(a, committedAtMs);
        }
        log(a, id, seconds, probe);
      }
    },
    failed(id, first, last, error) {
      const fenced = isProducerFenced(error);
      if (error instanceof TransactionError) {
        metrics.transactionDuration.labels("aborted").observe(error.seconds);
      }
      metrics.errors.labels(fenced ? "fenced" : "transaction").inc();
      logger.error(
        "Transaction of {task} offsets {first}..{last} failed{fenced}: {reason}",
        {
          task: `${id.kind}-${id.partition}`,
          partition: id.partition,
          first,
          last,
          fenced: fenced ? " (fenced)" : "",
          reason: describeCrashCause(error),
        },
      );
    },
    storeBehind(id, error) {
      // Kafka has the answers; the store is only behind. Preparing the partition
      // again reads what it missed from the changelog before anything is decided.
      metrics.errors.labels("state_store").inc();
      logger.error("Cannot update the store of {task}: {error}", {
        task: `${id.kind}-${id.partition}`,
        error,
      });
    },
  };
}
