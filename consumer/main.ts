// deno-lint-ignore-file no-console
/**
 * `deno task consumer`: the payment consumer. The composition root: reads the
 * environment, builds the Kafka client, metrics, logger, service and HTTP server,
 * and stops them in order on SIGINT, SIGTERM or SIGHUP (stop fetching, finish
 * in-flight records, commit, leave the group, disconnect, exit 0).
 *
 * @module
 */
import { type Admin, Kafka } from "kafkajs";
import { getLogger, type Logger } from "@logtape/logtape";
import { redactConfig } from "@payments/shared/config";
import { monitorEventLoopDelay } from "@payments/shared/event_loop_delay";
import { kafkaClientConfig, type KafkaClientSettings, readKafkaCa } from "@payments/shared/kafka";
import { compressionType, registerKafkaCodecs } from "@payments/shared/kafka_codecs";
import { explainKafkaError } from "@payments/shared/kafka_errors";
import { muteKafkajsTimeoutWarning } from "@payments/shared/kafkajs_quiet";
import { retryWithBackoff, serviceLifecycle, startService } from "@payments/shared/lifecycle";
import { configureLogging } from "@payments/shared/logging";
import { createRegistry } from "@payments/shared/metrics";
import { ListenError, serve } from "@payments/shared/serve";
import { type ConsumerConfig, loadConsumerConfig } from "./config.ts";
import { type ConsumerMetrics, createConsumerMetrics, registerWorkerState } from "./metrics.ts";
import { ChangelogTopicError } from "./topics_check.ts";
import { createHandler } from "./server.ts";
import { type ConsumerService, createConsumerService } from "./service.ts";
import { transactionRetried } from "./tasks/chunk_trace.ts";

const HELP = `Usage: deno task consumer [--help]

Consumes payment_requests in the consumer group, writes exactly one result per
payment to payment_results (or the record to payment_requests.dlq) in a Kafka
transaction with the consumed offset, and serves GET /health, /ready and /metrics.
Configured from the environment (see .env.example):

  KAFKA_BROKERS                      brokers, host:port,... (default localhost:9092)
  CONSUMER_GROUP_ID                  consumer group (default payment-processor)
  CONSUMER_PORT                      HTTP port (default 8001)
  CONSUMER_AMOUNT_LIMITS             per-currency limits, e.g. USD:5000,EUR:4000
  CONSUMER_DEFAULT_AMOUNT_LIMIT      limit for other currencies (default 5000)
  CONSUMER_BLOCKED_MERCHANTS         merchants always declined, comma-separated
  CONSUMER_VELOCITY_MAX_PER_MINUTE   per-customer payments per minute (default 10)
  CONSUMER_SIMULATED_LATENCY_MS      demo latency, MS or MIN-MAX (default 0)
  CONSUMER_FAILURE_RATE              demo transient failure probability (default 0)
  CONSUMER_MAX_ATTEMPTS              attempts before dead-lettering (default 3)
  CONSUMER_DEDUP_RETENTION           how long a payment id is remembered (default 7d)
  CONSUMER_STATE_DIR                 local state stores (default .data/consumer-state)
  CONSUMER_DEDUP_WINDOW              ids cached in memory per partition (default 10000)
  CONSUMER_STANDBY_REPLICAS          warm copies of each task's store on other
                                     instances, for a quick hand-over (default 1)
  CONSUMER_ADVERTISED_URL            where the producer reads this instance's stores
                                     (default http://<hostname>:<CONSUMER_PORT>)
  LAG_MONITOR_ENABLED                export the group's lag (default true)
  plus the shared KAFKA_*, SASL_*, TOPIC_*, LOG_LEVEL, LOG_FORMAT, LOG_FILE variables,
  the other CONSUMER_* settings listed in .env.example, and OpenTelemetry's: OTEL_DENO=true
  traces (off by default), OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_TRACES_SAMPLER,
  OTEL_TRACES_SAMPLER_ARG (defaults in consumer/telemetry.env, which deno task consumer loads).

SIGINT/SIGTERM/SIGHUP: stop fetching, finish in-flight records, commit, leave the group,
exit 0.
`;

/** Longest wait between attempts to reach Kafka at start. */
const MAX_CONNECT_BACKOFF_MS = 30_000;

const LOGGER = ["payments", "consumer"] as const;

/** Whether Kafka answers an admin round trip, asked at most every 2 s. */
function reachability(admin: ReturnType<Kafka["admin"]>): () => Promise<boolean> {
  let reachable = { at: 0, ok: false };
  return async () => {
    if (Date.now() - reachable.at < 2000) return reachable.ok;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const ok = await Promise.race([
      admin.describeCluster().then(() => true, () => false),
      new Promise<boolean>((resolve) => timer = setTimeout(() => resolve(false), 2000)),
    ]);
    clearTimeout(timer);
    reachable = { at: Date.now(), ok };
    return ok;
  };
}

/** The Kafka client of the consumer's tasks, codecs registered. */
function consumerKafka(
  config: ConsumerConfig,
  kafkaSettings: KafkaClientSettings,
  metrics: ConsumerMetrics,
): Kafka {
  registerKafkaCodecs();
  muteKafkajsTimeoutWarning();
  // Only the transactional producers send with this client, so its producer retries
  // are the transactions' retries: counted, and events on the span of the transaction.
  return new Kafka(
    kafkaClientConfig(kafkaSettings, `${config.kafka.clientId}-consumer`, {
      onProducerRetry: (error) => {
        metrics.transactionRetries.labels(error).inc();
        transactionRetried(error);
      },
    }),
  );
}

/**
 * Connects and joins the group, retrying with backoff: Kafka may be down or refuse our
 * credentials at start, so each failure is logged once with its reason rather than
 * crash-looping. It runs beside the wait for a signal, so a signal during start (say,
 * a join waiting for a dead member's session to expire) is not held up by it. A
 * changelog topic that is missing or wrong cannot fix itself: that is final ("refused").
 */
function startConsuming(deps: {
  admin: Admin;
  worker: ConsumerService["worker"];
  lag: ConsumerService["lag"];
  config: ConsumerConfig;
  logger: Logger;
  signal: AbortSignal;
}) {
  const { admin, worker, lag, config, logger } = deps;
  return retryWithBackoff({
    attempt: async () => {
      await admin.connect();
      await worker.start();
    },
    signal: deps.signal,
    maxBackoffMs: MAX_CONNECT_BACKOFF_MS,
    cleanUp: () => worker.abandonStart().catch(() => {}),
    isFinal: (error) => error instanceof ChangelogTopicError,
    onRetry: (error, delay) =>
      logger.error("Cannot start consuming ({error}); retrying in {delay} ms", {
        error: explainKafkaError(error, config.kafka),
        delay,
      }),
  }).then((outcome) => {
    if (outcome.state === "refused") {
      console.error((outcome.error as Error).message);
    } else if (outcome.state === "done") {
      lag?.start();
      logger.info("Consumer running in group {group}", { group: config.consumerGroupId });
    }
    return outcome.state;
  });
}

/** Runs the consumer until a signal; resolves with the exit code. */
export async function main(args: string[]): Promise<number> {
  const start = await startService(args, HELP, async () => {
    const config = loadConsumerConfig(Deno.env.toObject());
    return { config, kafkaSettings: await readKafkaCa(config.kafka) };
  });
  if ("exitCode" in start) return start.exitCode;
  const { config, kafkaSettings } = start.config;

  await using _logging = await configureLogging(config.log, { service: "consumer" });
  const logger = getLogger([...LOGGER]);
  logger.info("Starting payment consumer", { config: redactConfig(config) });
  // Stops in reverse order of what is deferred below: the worker (finish in-flight
  // records, commit, leave the group), the lag monitor, the admin client, then the
  // HTTP server, which answers /health until the end.
  await using life = serviceLifecycle({
    logger,
    shutdownTimeoutMs: config.shutdownTimeoutMs,
    stopping: "finishing in-flight records and leaving the group",
    stopped: "Consumer stopped cleanly",
  });

  const registry = createRegistry("payment-consumer");
  const metrics = createConsumerMetrics(registry, config.topics.requests);
  const loop = monitorEventLoopDelay(registry);
  life.defer(() => loop.stop());
  const kafka = consumerKafka(config, kafkaSettings, metrics);
  const admin = kafka.admin();
  const { worker, lag, storeReads } = createConsumerService({
    kafka,
    admin,
    config,
    registry,
    metrics,
    compression: compressionType(config.kafka.compression),
  });
  registerWorkerState(registry, worker.status);

  // Served before Kafka is reached, so /health answers and /ready says 503 while the
  // consumer keeps trying to connect.
  try {
    const server = serve(
      {
        port: config.port,
        variable: "CONSUMER_PORT",
        onListen: ({ port }) => logger.info("Consumer HTTP server on port {port}", { port }),
      },
      createHandler({
        registry,
        status: worker.status,
        topic: config.topics.requests,
        lag: () => lag?.snapshot() ?? [],
        kafkaReachable: reachability(admin),
        storeReads,
      }),
    );
    life.defer(() => server.shutdown());
  } catch (error) {
    if (!(error instanceof ListenError)) throw error;
    console.error(error.message);
    return 1; // `life` closes what was started
  }
  life.defer(() => admin.disconnect());

  const starting = startConsuming({ admin, worker, lag, config, logger, signal: life.signal });
  life.defer(() => lag?.stop());
  life.defer(() => starting);
  // Stopping the worker also ends a start still in progress.
  life.defer(() => worker.stop());
  return await life.untilStopped(starting.then((state) => state === "refused" ? 1 : undefined));
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
