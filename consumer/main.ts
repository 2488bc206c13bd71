/**
 * Composition root of the payment consumer: reads the environment, builds the
 * Kafka client, metrics, logger, service and HTTP server, and stops them in order on
 * SIGINT/SIGTERM (stop fetching, finish in-flight records, commit, leave the group,
 * disconnect, exit 0).
 *
 * @module
 */
import { Kafka } from "kafkajs";
import { getLogger } from "@logtape/logtape";
import { loadConfig, redactConfig } from "@payments/shared/config";
import { kafkaClientConfig } from "@payments/shared/kafka";
import { configureLogging } from "@payments/shared/logging";
import { createRegistry } from "@payments/shared/metrics";
import { loadConsumerSettings } from "./config.ts";
import { createHandler } from "./server.ts";
import { createConsumerService } from "./service.ts";

const env = Deno.env.toObject();
const config = loadConfig(env);
const settings = loadConsumerSettings(env);
const logging = await configureLogging(config.log);
const logger = getLogger(["payments", "consumer"]);
logger.info("Starting payment consumer", { config: redactConfig(config) });

const kafka = new Kafka(kafkaClientConfig(config.kafka, `${config.kafka.clientId}-consumer`));
const registry = createRegistry("payment-consumer");
const admin = kafka.admin();
await admin.connect();
const { worker, lag } = createConsumerService({ kafka, admin, config, settings, registry });

let reachable = { at: 0, ok: false };
const kafkaReachable = async () => {
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

const server = Deno.serve(
  {
    port: config.consumerPort,
    hostname: "0.0.0.0",
    onListen: ({ port }) => logger.info("Consumer HTTP server on port {port}", { port }),
  },
  createHandler({
    registry,
    status: worker.status,
    topic: config.topics.requests,
    lag: () => lag?.snapshot() ?? [],
    kafkaReachable,
  }),
);

let stopping: Promise<void> | undefined;
function shutdown(signal: string): Promise<void> {
  stopping ??= (async () => {
    logger.info("Received {signal}: finishing in-flight records and leaving the group", {
      signal,
    });
    const deadline = setTimeout(() => {
      logger.error("Shutdown took longer than {ms} ms: exiting", {
        ms: settings.shutdownTimeoutMs,
      });
      Deno.exit(1);
    }, settings.shutdownTimeoutMs);
    try {
      await worker.stop();
      await lag?.stop();
      await admin.disconnect();
      await server.shutdown();
      logger.info("Consumer stopped cleanly");
    } finally {
      clearTimeout(deadline);
    }
    await logging[Symbol.asyncDispose]();
    Deno.exit(0);
  })();
  return stopping;
}
Deno.addSignalListener("SIGINT", () => void shutdown("SIGINT"));
Deno.addSignalListener("SIGTERM", () => void shutdown("SIGTERM"));

lag?.start();
await worker.start();
logger.info("Consumer running in group {group}", { group: config.consumerGroupId });
