/**
 * The consumer's Prometheus metrics (names are the lab's contract) and the kafkajs
 * instrumentation listeners that feed the Kafka client metrics.
 *
 * @module
 */
import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import type { Consumer } from "kafkajs";
import { createExemplarHistogram } from "@payments/shared/metrics";
import { OutcomeSchema } from "@payments/shared/payment";
import { DLQ_REASONS } from "./dlq.ts";
import type { WorkerStatus } from "./status.ts";

/** prometheus_client's default buckets, which the lab's histograms use. */
export const LAB_BUCKETS = [
  0.005,
  0.01,
  0.025,
  0.05,
  0.075,
  0.1,
  0.25,
  0.5,
  0.75,
  1,
  2.5,
  5,
  7.5,
  10,
];
/** End-to-end latency buckets: from milliseconds to a minute behind. */
export const END_TO_END_BUCKETS = [
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
  30,
  60,
  120,
  300,
];

/** `messages_consumed_total{status}`: a result was committed, or the record was dead-lettered. */
export const CONSUMED_STATUSES = ["success", "failed"] as const;
/** `consumer_errors_total{error_type}` values. */
export const ERROR_TYPES = [
  "transaction",
  "fenced",
  "processing",
  "restore",
  "state_store",
  "standby",
  "crash",
] as const;

/** Every metric the worker updates. */
export interface ConsumerMetrics {
  consumed: Counter<"topic" | "status">;
  processingDuration: Histogram<"topic" | "status">;
  endToEndLatency: Histogram<"topic">;
  rebalances: Counter<"type">;
  activePartitions: Gauge;
  errors: Counter<"error_type">;
  results: Counter<"outcome">;
  deadLetters: Counter<"reason">;
  retries: Counter<"topic">;
  transactionDuration: Histogram<"result">;
  transactionRecords: Histogram;
  transactionRetries: Counter<"error">;
  stateRestoreDuration: Histogram<"kind">;
  stateRestoredRecords: Counter;
  stateRestorePhase: Histogram<"store" | "phase">;
  stateEntries: Gauge<"store" | "partition">;
  standbyTasks: Gauge<"store">;
  standbyLag: Gauge<"store" | "partition">;
  kafkaRequestDuration: Histogram<"api">;
  fetchDuration: Histogram;
  groupJoinDuration: Histogram;
  naiveTimestamps: Counter<"source">;
}

/**
 * Registers the consumer metrics on `registry`, with every known label value at 0.
 *
 * @example
 * ```ts
 * const metrics = createConsumerMetrics(createRegistry("payment-consumer"), "payment_requests");
 * ```
 */
export function createConsumerMetrics(registry: Registry, topic: string): ConsumerMetrics {
  const metrics: ConsumerMetrics = {
    ...processingMetrics(registry),
    ...transactionMetrics(registry),
    ...stateMetrics(registry),
    ...clientMetrics(registry),
  };
  zeroKnownLabels(metrics, topic);
  return metrics;
}

/** Every label value known in advance starts at 0, so rates and alerts see it from the start. */
function zeroKnownLabels(metrics: ConsumerMetrics, topic: string) {
  for (const status of CONSUMED_STATUSES) {
    metrics.consumed.labels(topic, status).inc(0);
    metrics.processingDuration.zero({ topic, status });
  }
  metrics.endToEndLatency.zero({ topic });
  metrics.retries.labels(topic).inc(0);
  for (const type of ["assign", "revoke"]) metrics.rebalances.labels(type).inc(0);
  for (const type of ERROR_TYPES) metrics.errors.labels(type).inc(0);
  for (const outcome of OutcomeSchema.options) metrics.results.labels(outcome).inc(0);
  for (const reason of DLQ_REASONS) metrics.deadLetters.labels(reason).inc(0);
  for (const result of ["committed", "aborted"]) metrics.transactionDuration.zero({ result });
  metrics.transactionRetries.labels("CONCURRENT_TRANSACTIONS").inc(0);
  for (const kind of ["checkpoint", "rebuild", "reset"]) {
    metrics.stateRestoreDuration.zero({ kind });
  }
  for (const store of ["payments", "customers"]) {
    metrics.standbyTasks.labels(store).set(0);
    for (const phase of ["fence", "open", "changelog"]) {
      metrics.stateRestorePhase.zero({ store, phase });
    }
  }
}

/** What happened to the input records: consumed, decided, dead-lettered, retried, rebalanced. */
function processingMetrics(
  registry: Registry,
): Pick<
  ConsumerMetrics,
  | "consumed"
  | "processingDuration"
  | "endToEndLatency"
  | "rebalances"
  | "activePartitions"
  | "errors"
  | "results"
  | "deadLetters"
  | "retries"
  | "naiveTimestamps"
> {
  const registers = [registry];
  return {
    consumed: new Counter({
      name: "messages_consumed_total",
      help:
        "Input records consumed, by outcome of their handling (success: result committed, failed: dead-lettered)",
      labelNames: ["topic", "status"],
      registers,
    }),
    // Exemplars: the trace and correlation ids of the last payment in each bucket.
    processingDuration: createExemplarHistogram(registry, {
      name: "message_processing_duration_seconds",
      help: "Time to decide one input record, retries and simulated latency included",
      labelNames: ["topic", "status"],
      buckets: LAB_BUCKETS,
    }),
    // The decision-latency SLO counts results within 1 s: keep 1 a bucket boundary.
    endToEndLatency: createExemplarHistogram(registry, {
      name: "end_to_end_latency_seconds",
      help: "From the payment's created_at (UTC) to its committed result",
      labelNames: ["topic"],
      buckets: END_TO_END_BUCKETS,
    }),
    rebalances: new Counter({
      name: "consumer_rebalances_total",
      help:
        "Consumer group rebalances seen by this member (assign: joined with an assignment, revoke: partitions given up)",
      labelNames: ["type"],
      registers,
    }),
    activePartitions: new Gauge({
      name: "consumer_active_partitions",
      help: "Partitions currently assigned to this member",
      registers,
    }),
    errors: new Counter({
      name: "consumer_errors_total",
      help: "Errors while consuming, by type",
      labelNames: ["error_type"],
      registers,
    }),
    results: new Counter({
      name: "payment_results_total",
      help: "Committed payment results by outcome",
      labelNames: ["outcome"],
      registers,
    }),
    deadLetters: new Counter({
      name: "dead_letter_messages_total",
      help: "Records committed to the dead-letter topic, by reason",
      labelNames: ["reason"],
      registers,
    }),
    retries: new Counter({
      name: "message_processing_retries_total",
      help: "Processing attempts retried after a transient failure",
      labelNames: ["topic"],
      registers,
    }),
    naiveTimestamps: new Counter({
      name: "payments_naive_timestamps_total",
      help:
        "Payments whose created_at had no offset and was read as UTC, by the source field of the payment (past 20 sources: other)",
      labelNames: ["source"],
      registers,
    }),
  };
}

/** The tasks' Kafka transactions. */
function transactionMetrics(
  registry: Registry,
): Pick<ConsumerMetrics, "transactionDuration" | "transactionRecords" | "transactionRetries"> {
  const registers = [registry];
  return {
    transactionDuration: new Histogram({
      name: "consumer_transaction_duration_seconds",
      help: "Time to write results, dead letters and offsets in one transaction and commit it",
      labelNames: ["result"],
      buckets: LAB_BUCKETS,
      registers,
    }),
    transactionRecords: new Histogram({
      name: "consumer_transaction_records",
      help: "Input records answered per committed transaction",
      buckets: [1, 5, 10, 25, 50, 100, 250, 500, 1000],
      registers,
    }),
    transactionRetries: new Counter({
      name: "kafka_transaction_retries_total",
      help:
        "Sends of the transactional producers that Kafka answered with a retriable error and kafkajs retried, by protocol error",
      labelNames: ["error"],
      registers,
    }),
  };
}

/** The tasks' stores: restores, their parts, rows, standbys. */
function stateMetrics(
  registry: Registry,
): Pick<
  ConsumerMetrics,
  | "stateRestoreDuration"
  | "stateRestoredRecords"
  | "stateRestorePhase"
  | "stateEntries"
  | "standbyTasks"
  | "standbyLag"
> {
  const registers = [registry];
  return {
    stateRestoreDuration: new Histogram({
      name: "consumer_state_restore_duration_seconds",
      help:
        "Time from a task's assignment to its being ready to process: producer fenced, store opened and agreeing with the changelog (kind: checkpoint, rebuild, reset)",
      labelNames: ["kind"],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
      registers,
    }),
    stateRestoredRecords: new Counter({
      name: "consumer_state_restored_records_total",
      help: "Changelog records read into partition stores by restores",
      registers,
    }),
    stateRestorePhase: new Histogram({
      name: "consumer_state_restore_phase_seconds",
      help:
        "The parts of a task's preparation, by store (payments, customers): fence (the previous owner's transaction ended), open (the store file opened and checked, or a standby's taken over), changelog (read from the store's checkpoint)",
      labelNames: ["store", "phase"],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
      registers,
    }),
    stateEntries: new Gauge({
      name: "consumer_state_entries",
      help:
        "Rows remembered in the store of each assigned task, by store (payments: claimed payment ids; customers: decisions) and partition",
      labelNames: ["store", "partition"],
      registers,
    }),
    standbyTasks: new Gauge({
      name: "consumer_standby_tasks",
      help: "Standby task stores this instance keeps current from their changelogs, by store",
      labelNames: ["store"],
      registers,
    }),
    standbyLag: new Gauge({
      name: "consumer_standby_lag_records",
      help:
        "Changelog records a standby store has not applied yet (what a hand-over to this instance would read), by store and partition",
      labelNames: ["store", "partition"],
      registers,
    }),
  };
}

/** The kafkajs consumer's own requests, fetches and group joins. */
function clientMetrics(
  registry: Registry,
): Pick<ConsumerMetrics, "kafkaRequestDuration" | "fetchDuration" | "groupJoinDuration"> {
  const registers = [registry];
  return {
    kafkaRequestDuration: new Histogram({
      name: "kafka_consumer_request_duration_seconds",
      help: "Kafka protocol request latency seen by the consumer client, by API",
      labelNames: ["api"],
      buckets: LAB_BUCKETS,
      registers,
    }),
    fetchDuration: new Histogram({
      name: "kafka_consumer_fetch_duration_seconds",
      help: "Duration of kafkajs fetch rounds",
      buckets: LAB_BUCKETS,
      registers,
    }),
    groupJoinDuration: new Histogram({
      name: "kafka_consumer_group_join_duration_seconds",
      help: "Duration of consumer group joins (rebalances)",
      buckets: LAB_BUCKETS,
      registers,
    }),
  };
}

/** Feeds the Kafka client metrics from a kafkajs consumer's instrumentation events. */
export function instrumentConsumer(consumer: Consumer, metrics: ConsumerMetrics): void {
  consumer.on(consumer.events.REQUEST, ({ payload }) => {
    metrics.kafkaRequestDuration.labels(payload.apiName).observe(payload.duration / 1000);
  });
  consumer.on(consumer.events.FETCH, ({ payload }) => {
    metrics.fetchDuration.observe(payload.duration / 1000);
  });
  consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
    metrics.groupJoinDuration.observe(payload.duration / 1000);
  });
}

/** What each worker state means, for `consumer_worker_state{state}` and the docs. */
export const WORKER_STATES: Readonly<Record<WorkerStatus["state"], string>> = {
  starting: "connecting to Kafka, not yet a group member",
  joining: "subscribed, waiting for the group to assign it partitions",
  rebalancing: "the group is rebalancing: its partitions may move",
  waiting: "a group member without partitions (more instances than partitions)",
  assigned: "consuming its assigned partitions",
  restarting: "kafkajs stopped consuming on a retriable error and restarts it by itself",
  crashed: "stopped consuming for good on a non-retriable error: needs an operator",
  stopped: "shut down",
};

/**
 * Registers `consumer_worker_state{state}`: 1 for the worker's current state, 0 for the
 * others, read from `status` at every scrape. The ConsumerCrashed alert fires on
 * `state="crashed"`.
 *
 * @example
 * ```ts
 * registerWorkerState(registry, worker.status);
 * ```
 */
export function registerWorkerState(registry: Registry, status: () => WorkerStatus): Gauge {
  const states = Object.keys(WORKER_STATES) as WorkerStatus["state"][];
  return new Gauge({
    name: "consumer_worker_state",
    help:
      "The worker's state: 1 for the current one (starting, joining, rebalancing, waiting, assigned, restarting, crashed, stopped), 0 for the others",
    labelNames: ["state"],
    registers: [registry],
    collect() {
      const current = status().state;
      for (const state of states) this.labels(state).set(state === current ? 1 : 0);
    },
  });
}
