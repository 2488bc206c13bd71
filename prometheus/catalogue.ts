/**
 * The metrics that dashboards and alert rules may query: the contract of DESIGN.md
 * plus Prometheus' own `up` and the default process metrics of prom-client. A query
 * naming anything else is a typo or a metric nobody exports.
 *
 * @module
 */

/** Prometheus metric types. */
export type MetricType = "counter" | "gauge" | "histogram";

/** One exported metric. */
export interface CatalogueEntry {
  name: string;
  type: MetricType;
  /** Who exports it: producer, consumer, both, or prometheus. */
  source: "producer" | "consumer" | "both" | "prometheus";
}

/** Every metric the dashboards and alerts may use. */
export const METRIC_CATALOGUE: readonly CatalogueEntry[] = [
  { name: "up", type: "gauge", source: "prometheus" },
  // producer
  { name: "payments_produced_total", type: "counter", source: "producer" },
  { name: "payment_batch_size", type: "histogram", source: "producer" },
  { name: "kafka_produce_duration_seconds", type: "histogram", source: "producer" },
  { name: "http_requests_total", type: "counter", source: "producer" },
  { name: "http_request_duration_seconds", type: "histogram", source: "producer" },
  { name: "kafka_client_request_duration_seconds", type: "histogram", source: "producer" },
  { name: "kafka_client_request_queue_size", type: "gauge", source: "producer" },
  { name: "http_requests_shed_total", type: "counter", source: "producer" },
  { name: "producer_inflight_payments", type: "gauge", source: "producer" },
  { name: "producer_inflight_payments_limit", type: "gauge", source: "producer" },
  { name: "producer_queued_request_bytes", type: "gauge", source: "producer" },
  { name: "producer_queued_request_bytes_limit", type: "gauge", source: "producer" },
  { name: "pipeline_probe_duration_seconds", type: "histogram", source: "producer" },
  { name: "pipeline_probe_failures_total", type: "counter", source: "producer" },
  { name: "kafka_consumer_request_duration_seconds", type: "histogram", source: "consumer" },
  // consumer
  { name: "messages_consumed_total", type: "counter", source: "consumer" },
  { name: "message_processing_duration_seconds", type: "histogram", source: "consumer" },
  { name: "end_to_end_latency_seconds", type: "histogram", source: "consumer" },
  { name: "consumer_lag_messages", type: "gauge", source: "consumer" },
  { name: "consumer_lag_seconds", type: "gauge", source: "consumer" },
  { name: "consumer_partition_status", type: "gauge", source: "consumer" },
  { name: "consumer_rebalances_total", type: "counter", source: "consumer" },
  { name: "consumer_active_partitions", type: "gauge", source: "consumer" },
  { name: "consumer_errors_total", type: "counter", source: "consumer" },
  { name: "kafka_transaction_retries_total", type: "counter", source: "consumer" },
  { name: "consumer_state_restore_duration_seconds", type: "histogram", source: "consumer" },
  { name: "consumer_state_restored_records_total", type: "counter", source: "consumer" },
  { name: "consumer_state_entries", type: "gauge", source: "consumer" },
  { name: "consumer_worker_state", type: "gauge", source: "consumer" },
  { name: "payments_naive_timestamps_total", type: "counter", source: "consumer" },
  { name: "payment_results_total", type: "counter", source: "consumer" },
  { name: "dead_letter_messages_total", type: "counter", source: "consumer" },
  // default process metrics (prom-client collectDefaultMetrics)
  { name: "process_cpu_seconds_total", type: "counter", source: "both" },
  { name: "process_resident_memory_bytes", type: "gauge", source: "both" },
  { name: "process_open_fds", type: "gauge", source: "both" },
  { name: "nodejs_heap_size_used_bytes", type: "gauge", source: "both" },
  { name: "nodejs_eventloop_lag_seconds", type: "gauge", source: "both" },
  // measured by the services themselves (shared/event_loop_delay.ts)
  { name: "event_loop_delay_seconds", type: "histogram", source: "both" },
  { name: "event_loop_delay_max_seconds", type: "gauge", source: "both" },
  // the consumer's task stores
  { name: "consumer_state_restore_phase_seconds", type: "histogram", source: "consumer" },
  { name: "consumer_standby_tasks", type: "gauge", source: "consumer" },
  { name: "consumer_standby_lag_records", type: "gauge", source: "consumer" },
];

/** Whether `series` (a name as written in PromQL) is a catalogued metric or one of a
 * catalogued histogram's `_bucket`, `_sum` and `_count` series. */
export function isCatalogued(series: string): boolean {
  return METRIC_CATALOGUE.some(({ name, type }) =>
    series === name ||
    (type === "histogram" && ["_bucket", "_sum", "_count"].some((s) => series === name + s))
  );
}
