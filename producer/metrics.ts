/**
 * The producer's Prometheus metrics. Names and labels are a contract with the
 * lab's dashboards and alerts (see DESIGN.md); known label combinations start at
 * 0 so rate panels show 0 rather than "No data".
 *
 * @module
 */
import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import {
  createExemplarHistogram,
  createRegistry,
  type ServiceRegistry,
} from "@payments/shared/metrics";
import { type AdmissionState, SHED_REASONS } from "./admission.ts";
import { PAYMENT_ROUTE_PATTERNS, routePattern, ROUTES } from "./routes/declarations.ts";
import { BATCH_SIZE_BUCKETS, BATCH_SIZE_RANGES, batchSizeRange } from "./batch_size.ts";

/** Outcome of the payments of one request. */
export type ProducedStatus = "success" | "failed";

const PRECREATED_STATUSES = ["202", "400", "401", "413", "415", "503"];
/** The answers of `GET /payments/{payment_id}`, started at 0 like the payment routes'. */
const STATUS_READ_STATUSES = ["200", "400", "401", "404", "503"];

/** The producer's registry: default process metrics and the `service` label. */
export function createProducerRegistry({ defaults = true } = {}): ServiceRegistry {
  return createRegistry("payment-producer", { defaults });
}

/** The producer's metrics, registered on one registry. */
export interface ProducerMetrics {
  registry: Registry;
  paymentsProduced: Counter<"status" | "batch_size_range">;
  batchSize: Histogram<string>;
  produceDuration: Histogram<"topic" | "status">;
  httpRequests: Counter<"method" | "handler" | "status">;
  httpDuration: Histogram<"method" | "handler" | "status">;
  kafkaRequestDuration: Histogram<"api" | "broker">;
  kafkaRequestQueueSize: Gauge<"broker">;
  kafkaRequestTimeouts: Counter<"api" | "broker">;
  kafkaReady: Gauge<string>;
  /** Payment requests shed by admission control (answered 503 `overloaded`). */
  requestsShed: Counter<"handler" | "reason">;
  /** Makes the admission gauges report `state` (they read it at each scrape). */
  observeAdmission(state: () => AdmissionState): void;
}

/**
 * Registers the producer's metrics on `registry` (one made by `createRegistry`).
 *
 * @example
 * ```ts
 * const metrics = createProducerMetrics(createRegistry("payment-producer"), "payment_requests");
 * ```
 */
export function createProducerMetrics(registry: Registry, topic: string): ProducerMetrics {
  const registers = [registry];
  const paymentsProduced = new Counter({
    name: "payments_produced_total",
    help: "Payments acknowledged by Kafka (success) or not (failed), by batch size range",
    labelNames: ["status", "batch_size_range"] as const,
    registers,
  });
  const batchSize = new Histogram({
    name: "payment_batch_size",
    help: "Number of payments per accepted request",
    buckets: BATCH_SIZE_BUCKETS,
    registers,
  });
  const produceDuration = new Histogram({
    name: "kafka_produce_duration_seconds",
    help: "Time from handing a request's records to kafkajs until Kafka acknowledged all of them",
    labelNames: ["topic", "status"] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers,
  });
  const httpRequests = new Counter({
    name: "http_requests_total",
    help: "HTTP requests answered, by method, route pattern and status",
    labelNames: ["method", "handler", "status"] as const,
    registers,
  });
  // Exemplars: the trace and correlation ids of the last request in each bucket.
  const httpDuration = createExemplarHistogram(registry, {
    name: "http_request_duration_seconds",
    help: "HTTP request duration, by method, route pattern and status",
    labelNames: ["method", "handler", "status"] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  });
  const kafkaRequestDuration = new Histogram({
    name: "kafka_client_request_duration_seconds",
    help: "Kafka protocol request latency seen by the producer's kafkajs client, by API",
    labelNames: ["api", "broker"] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5],
    registers,
  });
  const kafkaRequestQueueSize = new Gauge({
    name: "kafka_client_request_queue_size",
    help: "Requests waiting in the producer's kafkajs queue per broker connection",
    labelNames: ["broker"] as const,
    registers,
  });
  const kafkaRequestTimeouts = new Counter({
    name: "kafka_client_request_timeouts_total",
    help: "Kafka protocol requests of the producer's kafkajs client that timed out",
    labelNames: ["api", "broker"] as const,
    registers,
  });
  const kafkaReady = new Gauge({
    name: "kafka_producer_ready",
    help: "1 when the producer is connected and knows the topic's metadata, else 0",
    registers,
  });

  const requestsShed = new Counter({
    name: "http_requests_shed_total",
    help: "Payment requests answered 503 overloaded before anything was sent to Kafka, " +
      "by route pattern and reason (queue_full, inflight_full)",
    labelNames: ["handler", "reason"] as const,
    registers,
  });
  let admission: (() => AdmissionState) | undefined;
  const admissionGauge = (name: string, help: string, pick: (state: AdmissionState) => number) =>
    new Gauge({
      name,
      help,
      registers,
      collect() {
        const state = admission?.();
        this.set(state ? pick(state) : 0);
      },
    });
  admissionGauge(
    "producer_inflight_payments",
    "Payments handed to Kafka and not yet acknowledged or failed (admission control)",
    (state) => state.inflightPayments,
  );
  admissionGauge(
    "producer_inflight_payments_limit",
    "Most payments in flight to Kafka before requests are shed (PRODUCER_MAX_INFLIGHT_PAYMENTS)",
    (state) => state.maxInflightPayments,
  );
  admissionGauge(
    "producer_queued_requests",
    "Payment requests being read, parsed and validated (admission control)",
    (state) => state.queuedRequests,
  );
  admissionGauge(
    "producer_queued_request_bytes",
    "Body bytes (declared) of the payment requests being read, parsed and validated",
    (state) => state.queuedBytes,
  );
  admissionGauge(
    "producer_queued_request_bytes_limit",
    "Most body bytes read at once before requests are shed (PRODUCER_MAX_QUEUED_BYTES)",
    (state) => state.maxQueuedBytes,
  );

  for (const status of ["success", "failed"]) {
    for (const range of BATCH_SIZE_RANGES) {
      paymentsProduced.labels(status, range).inc(0);
    }
    produceDuration.zero({ topic, status });
  }
  for (const handler of PAYMENT_ROUTE_PATTERNS) {
    for (const status of PRECREATED_STATUSES) httpRequests.labels("POST", handler, status).inc(0);
    for (const reason of SHED_REASONS) requestsShed.labels(handler, reason).inc(0);
  }
  for (const status of STATUS_READ_STATUSES) {
    httpRequests.labels("GET", routePattern(ROUTES.paymentStatus), status).inc(0);
  }
  kafkaReady.set(0);

  return {
    registry,
    paymentsProduced,
    batchSize,
    produceDuration,
    httpRequests,
    httpDuration,
    kafkaRequestDuration,
    kafkaRequestQueueSize,
    kafkaRequestTimeouts,
    kafkaReady,
    requestsShed,
    observeAdmission(state) {
      admission = state;
    },
  };
}

/** Records the payments of one request as produced or failed. */
export function recordPayments(
  metrics: ProducerMetrics,
  status: ProducedStatus,
  count: number,
): void {
  metrics.paymentsProduced.labels(status, batchSizeRange(count)).inc(count);
  if (status === "success") metrics.batchSize.observe(count);
}

/** The subset of kafkajs' instrumentation emitter used here (`producer.on`). */
export interface InstrumentedClient {
  on(event: string, listener: (event: { payload: Record<string, unknown> }) => void): () => void;
  events: { REQUEST: string; REQUEST_QUEUE_SIZE: string; REQUEST_TIMEOUT: string };
}

/**
 * Feeds kafkajs instrumentation events (`producer.network.request`,
 * `...request_queue_size`, `...request_timeout`) into the client metrics.
 * Listeners never throw. Returns a function that removes them.
 */
export function instrumentKafkaClient(
  client: InstrumentedClient,
  metrics: ProducerMetrics,
): () => void {
  const safe = (fn: (payload: Record<string, unknown>) => void) =>
  (event: {
    payload: Record<string, unknown>;
  }) => {
    try {
      fn(event.payload ?? {});
    } catch {
      // A metrics listener must never break the client that emits the event.
    }
  };
  const label = (value: unknown) => typeof value === "string" ? value : String(value ?? "unknown");
  const removers = [
    client.on(
      client.events.REQUEST,
      safe((payload) => {
        const duration = Number(payload.duration);
        if (!Number.isFinite(duration) || duration < 0) return;
        metrics.kafkaRequestDuration.labels(label(payload.apiName), label(payload.broker))
          .observe(duration / 1000);
        // kafkajs reports the queue size only once a request has had to wait; start
        // each broker's series at 0 so the panel shows an empty queue, not "No data".
        metrics.kafkaRequestQueueSize.labels(label(payload.broker)).inc(0);
      }),
    ),
    client.on(
      client.events.REQUEST_QUEUE_SIZE,
      safe((payload) => {
        const size = Number(payload.queueSize);
        if (Number.isFinite(size)) {
          metrics.kafkaRequestQueueSize.labels(label(payload.broker)).set(size);
        }
      }),
    ),
    client.on(
      client.events.REQUEST_TIMEOUT,
      safe((payload) => {
        metrics.kafkaRequestTimeouts.labels(label(payload.apiName), label(payload.broker)).inc();
      }),
    ),
  ];
  return () => removers.forEach((remove) => remove());
}
