// deno-lint-ignore-file no-console
/**
 * `deno task kafka`: a local Apache Kafka broker in the foreground, with the pipeline's
 * topics, until SIGINT or SIGTERM.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { parsePortArgument, runCommand } from "@payments/shared/cli";
import { loadSharedConfig } from "@payments/shared/config";
import { ConfigError, loadAll } from "@payments/shared/env";
import {
  DEFAULT_PARTITIONS,
  DEFAULT_TOPICS,
  loadDedupRetention,
  topicSpecs,
} from "@payments/shared/topics";
import { type KafkaCluster, startKafkaCluster } from "./cluster.ts";
import { KAFKA_VERSION, type KafkaBroker, startKafka } from "./launcher.ts";

const HELP = `Usage: deno task kafka [--port N] [--data-dir DIR] [--nodes N] [--ignore-sigint]

Runs a single-node Apache Kafka ${KAFKA_VERSION} broker (KRaft) in the foreground, creates
the pipeline's topics, prints one ready line and stops cleanly on Ctrl-C or SIGTERM.
The first run resolves the broker's jars with Maven into .cache/kafka (needs Java 17+
and Maven: apt-get install openjdk-17-jdk-headless maven).

Options:
  --port N          client port (env KAFKA_PORT, default 9092)
  --data-dir DIR    data directory, kept across runs (env KAFKA_DATA_DIR, default .data/kafka,
                    or .data/kafka-cluster with --nodes above 1)
  --nodes N         run a cluster of N broker+controller nodes on ports N..N+nodes-1
                    (a static N-voter quorum, replication factor 3, min.insync.replicas 2;
                    env KAFKA_NODES, default 1)
  --ignore-sigint   stop on SIGTERM only (deno task dev uses it so a terminal's Ctrl-C
                    stops the services first and the broker last)
  -h, --help        show this help

Environment:
  TOPIC_PAYMENT_REQUESTS  (default ${DEFAULT_TOPICS.requests})
  TOPIC_PAYMENT_RESULTS   (default ${DEFAULT_TOPICS.results})
  TOPIC_PAYMENT_DLQ       (default ${DEFAULT_TOPICS.dlq})
  TOPIC_PAYMENT_DECISIONS (default ${DEFAULT_TOPICS.decisions}; compacted, kept for
                           CONSUMER_DEDUP_RETENTION, default 7d)
  TOPIC_PAYMENT_BY_CUSTOMER (default ${DEFAULT_TOPICS.byCustomer}; deleted after
                           CONSUMER_DEDUP_RETENTION)
  TOPIC_PAYMENT_CUSTOMER_DECISIONS (default ${DEFAULT_TOPICS.customerDecisions};
                           compacted, kept for CONSUMER_DEDUP_RETENTION)
`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      port: { type: "string" },
      "data-dir": { type: "string" },
      nodes: { type: "string" },
      "ignore-sigint": { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const port = parsePortArgument(
    values.port ?? Deno.env.get("KAFKA_PORT") ?? "9092",
    "KAFKA_PORT / --port",
  );
  const nodes = parseNodes(values.nodes ?? Deno.env.get("KAFKA_NODES") ?? "1");
  const dataDir = values["data-dir"] ?? Deno.env.get("KAFKA_DATA_DIR") ??
    (nodes > 1 ? ".data/kafka-cluster" : ".data/kafka");
  let config;
  try {
    const env = Deno.env.toObject();
    const [shared, retentionMs] = loadAll(
      () => loadSharedConfig(env),
      () => loadDedupRetention(env),
    );
    config = { topics: shared.topics, retentionMs };
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(error.message);
    return 2;
  }
  const topics = topicSpecs(config.topics, DEFAULT_PARTITIONS, config.retentionMs);

  const stopSignals: Deno.Signal[] = values["ignore-sigint"] ? ["SIGTERM"] : ["SIGINT", "SIGTERM"];
  // A listener replaces SIGINT's default action (exit), so the broker keeps running.
  if (values["ignore-sigint"]) Deno.addSignalListener("SIGINT", () => {});
  if (nodes > 1) return await runCluster({ nodes, port, dataDir, topics, stopSignals });
  const broker = await startKafka({ port, dataDir, topics });
  const stopping = stopOnSignals(broker, stopSignals);
  console.log(
    `Kafka ready on localhost:${port} (data: ${dataDir}, ` +
      `topics: ${topics.map((t) => t.topic).join(", ")})`,
  );
  const code = await Promise.race([stopping.done, broker.exited]);
  if (stopping.requested) {
    await stopping.done;
    return 0;
  }
  console.error(`Kafka broker exited unexpectedly with code ${code}; see ${broker.logFile}`);
  return 1;
}

/** `--nodes N`: a cluster in the foreground until a signal or until a node dies. */
async function runCluster(
  options: {
    nodes: number;
    port: number;
    dataDir: string;
    topics: ReturnType<typeof topicSpecs>;
    stopSignals: Deno.Signal[];
  },
): Promise<number> {
  const cluster = await startKafkaCluster({
    nodes: options.nodes,
    basePort: options.port,
    dataDir: options.dataDir,
    topics: options.topics,
  });
  const stopping = stopOnSignals(cluster, options.stopSignals);
  const addresses = cluster.brokers.map((b) => b.replace(/^127\.0\.0\.1:/, "localhost:"));
  console.log(
    `Kafka cluster of ${options.nodes} nodes ready on ${addresses.join(",")} ` +
      `(data: ${options.dataDir}, topics: ${options.topics.map((t) => t.topic).join(", ")})`,
  );
  const died = Promise.race(
    cluster.nodeIds.map((id) => cluster.node(id).exited.then((code) => ({ id, code }))),
  );
  const first = await Promise.race([stopping.done, died]);
  if (stopping.requested) {
    await stopping.done;
    return 0;
  }
  const { id, code } = first as { id: number; code: number };
  console.error(
    `Kafka node ${id} exited unexpectedly with code ${code}; see ${cluster.node(id).logFile}`,
  );
  await cluster.stop();
  return 1;
}

/** Stops the broker on the first SIGINT or SIGTERM; `done` settles once it has stopped. */
function stopOnSignals(
  broker: Pick<KafkaBroker | KafkaCluster, "stop">,
  signals: Deno.Signal[],
): { done: Promise<void>; requested: boolean } {
  const { promise, resolve, reject } = Promise.withResolvers<void>();
  const state = { done: promise, requested: false };
  const onSignal = () => {
    for (const s of signals) Deno.removeSignalListener(s, onSignal);
    state.requested = true;
    broker.stop().then(resolve, reject);
  };
  for (const s of signals) Deno.addSignalListener(s, onSignal);
  return state;
}

function parseNodes(text: string): number {
  const nodes = Number(text);
  if (!Number.isInteger(nodes) || nodes < 1 || nodes > 9) {
    throw new Error(`KAFKA_NODES / --nodes must be a whole number from 1 to 9, got "${text}"`);
  }
  return nodes;
}

if (import.meta.main) await runCommand(main);
