// deno-lint-ignore-file no-console
/**
 * `deno task producer`: the payment producer API. The composition root: the only
 * module that reads the environment, builds the Kafka client, the metrics
 * registry and the logger, serves HTTP and handles signals.
 *
 * @module
 */
import { Kafka, type logCreator } from "kafkajs";
import { getLogger } from "@logtape/logtape";
import {
  kafkaClientConfig,
  type KafkaClientSettings,
  logTapeLogCreator,
  readKafkaCa,
} from "@payments/shared/kafka";
import { registerKafkaCodecs } from "@payments/shared/kafka_codecs";
import { explainKafkaError } from "@payments/shared/kafka_errors";
import { muteKafkajsTimeoutWarning } from "@payments/shared/kafkajs_quiet";
import { runLagMonitor } from "@payments/lag/runner";
import { serviceLifecycle, startService } from "@payments/shared/lifecycle";
import { monitorEventLoopDelay } from "@payments/shared/event_loop_delay";
import { configureLogging } from "@payments/shared/logging";
import { ListenError, serve } from "@payments/shared/serve";
import { createApp } from "./app.ts";
import { loadProducerConfig, type ProducerConfig, redactProducerConfig } from "./config.ts";
import { KafkaPublisher } from "./kafka_publisher.ts";
import { createProducerMetrics, createProducerRegistry, type ProducerMetrics } from "./metrics.ts";
import { createProbe } from "./probe/probe.ts";
import { createProbeMetrics } from "./probe/probe_metrics.ts";
import { kafkaStatusReader } from "./status/kafka_status_reader.ts";

const HELP = `Usage: deno task producer [--help]

Serves the payment producer API (POST /payments, /payments/single, /payments/batch,
GET /payments/{payment_id}, /health, /ready, /metrics, /stats, /openapi.json, /docs),
writes accepted payments to Kafka, reads their outcomes from the consumers, and probes
the pipeline end to end. Configured from the environment (see .env.example):

  KAFKA_BROKERS                  brokers, host:port,... (default localhost:9092)
  PRODUCER_PORT                  HTTP port (default 8000)
  API_KEYS                       comma-separated bearer keys; unset = no authentication
  PRODUCER_MAX_BODY_BYTES        largest request body (default 1048576)
  PRODUCER_SEND_TIMEOUT_MS       wait for Kafka's acknowledgement before 503 (default 5000)
  PRODUCER_RETRY_AFTER_SECONDS   Retry-After of 503 answers (default 5)
  PRODUCER_SOURCE                source field/header of records (default payment-producer)
  PRODUCER_READY_INTERVAL_MS     readiness re-check period (default 5000)
  PRODUCER_SHUTDOWN_TIMEOUT_MS   graceful shutdown budget (default 10000)
  PRODUCER_MAX_INFLIGHT_PAYMENTS payments in flight to Kafka before requests are shed
                                 with 503 overloaded, nothing written (default 2000)
  PRODUCER_MAX_QUEUED_BYTES      body bytes of payment requests read at once before
                                 more are shed unread (default 4194304)
  CONSUMER_GROUP_ID              the consumer group whose lag it watches and whose
                                 stores answer GET /payments/{payment_id}
                                 (default payment-processor)
  PROBE_INTERVAL_MS              end-to-end probe period, 0 = off (default 10000)
  PROBE_TIMEOUT_MS               a probe's wait for its decision (default 10000)
  LAG_MONITOR_ENABLED            also export the consumer group's lag (default true)
  LAG_MONITOR_INTERVAL_MS        lag measurement period (default 5000)
  plus the shared KAFKA_*, SASL_*, TOPIC_*, LOG_LEVEL, LOG_FORMAT, LOG_FILE variables,
  and OpenTelemetry's: OTEL_DENO=true traces (off by default), OTEL_EXPORTER_OTLP_ENDPOINT,
  OTEL_TRACES_SAMPLER, OTEL_TRACES_SAMPLER_ARG (defaults in producer/telemetry.env, which
  deno task producer loads).

SIGINT/SIGTERM/SIGHUP: stop accepting, finish in-flight requests, disconnect, exit 0.
`;

// kafkajs warns that bounded retries weaken idempotence; the publisher compensates
// by replacing its producer after any failed send, so this warning is noise here.
const BOUNDED_RETRIES_WARNING = "Limiting retries for the idempotent producer";

const producerLogCreator: logCreator = (level) => {
  const log = logTapeLogCreator(level);
  return (entry) => {
    if (String(entry.log.message).startsWith(BOUNDED_RETRIES_WARNING)) return;
    log(entry);
  };
};

/** The producer's logger categories, under the same root as the consumer's. */
const LOGGER = ["payments", "producer"] as const;

/** The Kafka client and the publisher of payment requests on it (not started yet). */
function kafkaPublisher(
  config: ProducerConfig,
  kafkaSettings: KafkaClientSettings,
  metrics: ProducerMetrics,
) {
  registerKafkaCodecs();
  muteKafkajsTimeoutWarning();
  const kafka = new Kafka({
    ...kafkaClientConfig(kafkaSettings, `${config.kafka.clientId}-producer`),
    logCreator: producerLogCreator,
  });
  const publisher = new KafkaPublisher({
    kafka,
    admin: kafka.admin({ retry: { retries: 0 } }),
    topic: config.topics.requests,
    sendTimeoutMs: config.sendTimeoutMs,
    compression: config.kafka.compression,
    readyIntervalMs: config.readyIntervalMs,
    metrics,
    logger: getLogger([...LOGGER, "kafka"]),
    explain: (error) => explainKafkaError(error, config.kafka),
  });
  return { kafka, publisher };
}

/**
 * The end-to-end probe, through the API as a client reaches it on the port just bound;
 * none when PROBE_INTERVAL_MS is 0. Its metrics are registered either way: the series
 * say 0 failures, never "no data".
 */
function probeOf(config: ProducerConfig, token: string, metrics: ProducerMetrics) {
  const probeMetrics = createProbeMetrics(metrics.registry);
  if (config.probe.intervalMs <= 0) return undefined;
  return createProbe({
    baseUrl: `http://127.0.0.1:${config.port}`,
    token,
    ...(config.apiKeys[0] ? { apiKey: config.apiKeys[0] } : {}),
    intervalMs: config.probe.intervalMs,
    timeoutMs: config.probe.timeoutMs,
    metrics: probeMetrics,
    logger: getLogger([...LOGGER, "probe"]),
  });
}

/** Runs the producer until a signal; resolves with the exit code. */
export async function main(args: string[]): Promise<number> {
  const start = await startService(args, HELP, async () => {
    const config = loadProducerConfig(Deno.env.toObject());
    return { config, kafkaSettings: await readKafkaCa(config.kafka) };
  });
  if ("exitCode" in start) return start.exitCode;
  const { config, kafkaSettings } = start.config;

  await using _logging = await configureLogging(config.log, { service: "producer" });
  const log = getLogger([...LOGGER]);
  log.info("Starting payment producer", { config: redactProducerConfig(config) });
  // Stops in reverse order of what is deferred below: the probe, the server, the status
  // reader, the lag monitor, then the publisher, so in-flight requests still reach Kafka.
  await using life = serviceLifecycle({
    logger: log,
    shutdownTimeoutMs: config.shutdownTimeoutMs,
    stopping: "finishing in-flight requests",
    stopped: "Producer stopped",
  });

  const metrics = createProducerMetrics(createProducerRegistry(), config.topics.requests);
  const loop = monitorEventLoopDelay(metrics.registry);
  life.defer(() => loop.stop());
  const { kafka, publisher } = kafkaPublisher(config, kafkaSettings, metrics);
  publisher.start();
  life.defer(() => publisher.close());

  // The producer watches the consumer group's lag too, so lag stays visible and
  // keeps rising on this endpoint when every consumer instance is down.
  if (config.lagMonitor.enabled) {
    const lagMonitor = runLagMonitor({
      admin: kafka.admin(),
      groupId: config.consumerGroupId,
      topics: [config.topics.requests],
      registry: metrics.registry,
      intervalMs: config.lagMonitor.intervalMs,
      logger: getLogger([...LOGGER, "lag"]),
    });
    life.defer(() => lagMonitor[Symbol.asyncDispose]());
  }

  // GET /payments/{payment_id}: from the stores of the group's consumers.
  const statuses = kafkaStatusReader({
    kafka,
    groupId: config.consumerGroupId,
    topics: config.topics,
  });
  life.defer(() => statuses[Symbol.asyncDispose]());

  // Only this process knows the token: requests carrying it are its own probe's.
  const probeToken = crypto.randomUUID();
  const app = createApp({
    publisher,
    statuses: statuses.reader,
    probeToken,
    metrics,
    config,
    readiness: () => publisher.ready(),
    logger: getLogger([...LOGGER, "http"]),
  });
  try {
    const server = serve({
      port: config.port,
      variable: "PRODUCER_PORT",
      onListen: ({ port }) => log.info("Producer listening on port {port}", { port }),
    }, app.fetch);
    life.defer(() => server.shutdown());
  } catch (error) {
    if (!(error instanceof ListenError)) throw error;
    console.error(error.message);
    return 1; // `life` closes what was started
  }
  const probe = probeOf(config, probeToken, metrics);
  if (probe) {
    probe.start();
    life.defer(() => probe.stop());
  }
  return await life.untilStopped();
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
