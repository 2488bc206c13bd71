/**
 * A local multi-node Apache Kafka cluster: N combined broker+controller JVMs forming a
 * static N-voter KRaft quorum, topics with replication factor 3 and
 * `min.insync.replicas=2`, and any node stopped, killed, paused or restarted by id.
 *
 * @example
 * ```ts
 * import { startKafkaCluster } from "@payments/kafka/cluster";
 * await using cluster = await startKafkaCluster({ nodes: 3 });
 * await cluster.killNode(2); // kill -9: the two others keep accepting acks=-1 writes
 * await cluster.startNode(2);
 * ```
 *
 * @module
 */
import { join, resolve } from "node:path";
import { Kafka, logLevel } from "kafkajs";
import { type TopicSpec, topicSpecs } from "@payments/shared/topics";
import { muteKafkajsTimeoutWarning } from "@payments/shared/kafkajs_quiet";
import { ensureTopics } from "./admin.ts";
import { KafkaLauncherError } from "./errors.ts";
import {
  type KafkaBroker,
  type KafkaOptions,
  type QuorumVoter,
  randomClusterId,
  startKafka,
} from "./launcher.ts";
import { freePort } from "./ports.ts";

/** Options of {@linkcode startKafkaCluster}. */
export interface KafkaClusterOptions {
  /** Number of nodes, each a broker and a voter (default 3). */
  nodes?: number;
  /** Data directory (node `i` uses `<dataDir>/node-<i>`); default a temporary one. */
  dataDir?: string;
  /** Keep `dataDir` after `stop()` (default: only when `dataDir` was given). */
  keepData?: boolean;
  /** Client port of node 1; node `i` gets `basePort + i - 1` (default: free ports). */
  basePort?: number;
  host?: string;
  /** Topics to create (default `topicSpecs()`), with `replicationFactor`. */
  topics?: TopicSpec[];
  /** Default `min(3, nodes)`. */
  replicationFactor?: number;
  /** Default 2 when the replication factor is 3 or more, else 1. */
  minInsyncReplicas?: number;
  /** Extra `server.properties` for every node. */
  properties?: KafkaOptions["properties"];
  /** Heap per JVM in MB (default 384). */
  heapMb?: number;
  /** Per-node start timeout (default 120 000 ms). */
  startTimeoutMs?: number;
}

/** A running cluster. Node ids are 1..N. */
export interface KafkaCluster extends AsyncDisposable {
  /** Every node's client address, comma-separated (for `KAFKA_BROKERS`). */
  readonly bootstrap: string;
  readonly brokers: string[];
  readonly nodeIds: number[];
  readonly dataDir: string;
  /** The running node's handle; throws while the node is down. */
  node(id: number): KafkaBroker;
  isRunning(id: number): boolean;
  /** Clean shutdown (SIGTERM) of one node, keeping its data. */
  stopNode(id: number): Promise<void>;
  /** Sends `signal` (default SIGKILL) and waits for the JVM to exit. */
  killNode(id: number, signal?: Deno.Signal): Promise<void>;
  /** Starts a stopped or killed node again on its data and ports. */
  startNode(id: number): Promise<void>;
  restartNode(id: number): Promise<void>;
  /** SIGSTOP / SIGCONT of one node. */
  pauseNode(id: number): void;
  resumeNode(id: number): void;
  /** Partition leaders of `topic` (partition to node id; -1 when leaderless). */
  leaders(topic: string): Promise<Map<number, number>>;
  /** Stops every node and removes the data unless kept. Idempotent. */
  stop(): Promise<void>;
}

interface ClusterLayout {
  clusterId: string;
  nodes: { id: number; port: number; controllerPort: number }[];
}

const LAYOUT_FILE = "cluster.json";

/** Starts all nodes at once (a quorum needs a majority), then creates the topics. */
export async function startKafkaCluster(options: KafkaClusterOptions = {}): Promise<KafkaCluster> {
  muteKafkajsTimeoutWarning();
  const count = options.nodes ?? 3;
  if (!Number.isInteger(count) || count < 1 || count > 9) {
    throw new KafkaLauncherError(`A cluster needs 1 to 9 nodes, got ${count}`);
  }
  const host = options.host ?? "127.0.0.1";
  const keepData = options.keepData ?? options.dataDir !== undefined;
  const dataDir = resolve(
    options.dataDir ?? await Deno.makeTempDir({ prefix: "payments-kafka-cluster-" }),
  );
  await Deno.mkdir(dataDir, { recursive: true });
  const rf = options.replicationFactor ?? Math.min(3, count);
  const minIsr = options.minInsyncReplicas ?? (rf >= 3 ? 2 : 1);
  const layout = await readLayout(dataDir) ?? {
    clusterId: randomClusterId(),
    nodes: Array.from({ length: count }, (_, i) => ({
      id: i + 1,
      port: options.basePort ? options.basePort + i : freePort(host),
      controllerPort: freePort(host),
    })),
  };
  if (layout.nodes.length !== count) {
    throw new KafkaLauncherError(
      `Cannot start a ${count}-node cluster in ${dataDir}: it holds a ${layout.nodes.length}-node ` +
        "cluster; use another --data-dir or remove that one.",
    );
  }
  await Deno.writeTextFile(join(dataDir, LAYOUT_FILE), JSON.stringify(layout) + "\n");
  const voters: QuorumVoter[] = layout.nodes.map((n) => ({
    id: n.id,
    host,
    controllerPort: n.controllerPort,
  }));
  const nodeOptions = (id: number): KafkaOptions => {
    const n = layout.nodes.find((x) => x.id === id);
    if (!n) throw new Error(`No node ${id} in this cluster (ids 1..${count})`);
    return {
      dataDir: join(dataDir, `node-${id}`),
      host,
      port: n.port,
      controllerPort: n.controllerPort,
      nodeId: id,
      clusterId: layout.clusterId,
      voters,
      replicationFactor: rf,
      minInsyncReplicas: minIsr,
      topics: [],
      heapMb: options.heapMb ?? 384,
      startTimeoutMs: options.startTimeoutMs ?? 120_000,
      ...(options.properties ? { properties: options.properties } : {}),
    };
  };

  const running = new Map<number, KafkaBroker>();
  let stopped = false;
  const stopAll = async () => {
    const nodes = [...running.values()];
    running.clear();
    // Stopped together, the last nodes lose the quorum their controlled shutdown waits for.
    await Promise.all(nodes.map((b) => b.stop(10_000)));
  };
  const removeData = async () => {
    if (!keepData) await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  };
  const brokers = layout.nodes.map((n) => `${host}:${n.port}`);
  try {
    const started = await Promise.allSettled(
      layout.nodes.map(async (n) => running.set(n.id, await startKafka(nodeOptions(n.id)))),
    );
    const failed = started.find((s) => s.status === "rejected");
    if (failed) throw (failed as PromiseRejectedResult).reason;
    await ensureTopics(brokers, options.topics ?? topicSpecs(), rf);
  } catch (error) {
    await stopAll();
    await removeData();
    throw error;
  }

  const node = (id: number) => {
    const broker = running.get(id);
    if (!broker) throw new Error(`Kafka node ${id} is not running`);
    return broker;
  };
  const stopNode = async (id: number) => {
    const broker = running.get(id);
    running.delete(id);
    await broker?.stop();
  };
  const startNode = async (id: number) => {
    if (stopped) throw new Error("Cannot start a node of a stopped cluster");
    if (running.has(id)) return;
    running.set(id, await startKafka(nodeOptions(id)));
  };
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await stopAll();
    await removeData();
  };
  return {
    bootstrap: brokers.join(","),
    brokers,
    nodeIds: layout.nodes.map((n) => n.id),
    dataDir,
    node,
    isRunning: (id) => running.has(id),
    stopNode,
    killNode: async (id, signal = "SIGKILL") => {
      const broker = running.get(id);
      running.delete(id);
      broker?.kill(signal);
      await broker?.exited;
    },
    startNode,
    restartNode: async (id) => {
      await stopNode(id);
      await startNode(id);
    },
    pauseNode: (id) => node(id).pause(),
    resumeNode: (id) => node(id).resume(),
    leaders: (topic) => partitionLeaders([...running.values()].map((b) => b.bootstrap), topic),
    stop,
    [Symbol.asyncDispose]: stop,
  };
}

/** Partition to leader node id of `topic`, asked of the given brokers. */
export async function partitionLeaders(
  brokers: string[],
  topic: string,
): Promise<Map<number, number>> {
  const admin = new Kafka({
    clientId: "payments-kafka-cluster",
    brokers,
    logLevel: logLevel.NOTHING,
    connectionTimeout: 1000,
    requestTimeout: 5000,
  }).admin();
  await admin.connect();
  try {
    const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
    const leaders = new Map<number, number>();
    for (const p of topics[0]?.partitions ?? []) leaders.set(p.partitionId, p.leader);
    return leaders;
  } finally {
    await admin.disconnect();
  }
}

async function readLayout(dataDir: string): Promise<ClusterLayout | undefined> {
  try {
    const parsed = JSON.parse(await Deno.readTextFile(join(dataDir, LAYOUT_FILE)));
    if (typeof parsed?.clusterId === "string" && Array.isArray(parsed.nodes)) return parsed;
  } catch {
    // no layout yet
  }
  return undefined;
}
