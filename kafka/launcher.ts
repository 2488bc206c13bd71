/**
 * Starts a real single-node Apache Kafka broker (KRaft, broker and controller in one
 * JVM) from Maven-resolved jars, without Docker, and creates the pipeline's topics.
 *
 * @example
 * ```ts
 * import { startKafka } from "@payments/kafka/launcher";
 * await using broker = await startKafka({ dataDir: ".data/kafka" });
 * console.log(broker.bootstrap); // "127.0.0.1:9092"
 * ```
 *
 * @module
 */
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { type TopicSpec, topicSpecs } from "@payments/shared/topics";
import { ensureTopics, waitForMetadata } from "./admin.ts";
import { KafkaLauncherError } from "./errors.ts";
import { checkJava } from "./java.ts";
import { ensureKafkaJars } from "./jars.ts";
import { assertPortFree, freePort } from "./ports.ts";
import { type GuardedProcess, spawnGuarded } from "./process.ts";
import {
  type LauncherSaslMechanism,
  type PropertyValue,
  type QuorumVoter,
  renderProperties,
  serverProperties,
} from "./properties.ts";

export { KafkaLauncherError } from "./errors.ts";
export { KAFKA_VERSION } from "./jars.ts";
export type { TopicSpec } from "@payments/shared/topics";
export type { LauncherSaslMechanism, QuorumVoter } from "./properties.ts";

/**
 * An authenticated (and with SASL_SSL encrypted) client listener on `port`. Replication
 * and the launcher's admin calls use a PLAINTEXT listener on `internalPort` instead,
 * reachable as {@linkcode KafkaBroker.internalBootstrap} (tests read back through it).
 */
export interface KafkaSecurityOptions {
  protocol: "SASL_PLAINTEXT" | "SASL_SSL";
  /** SASL users (name to password); each can log in with every mechanism in `mechanisms`. */
  users: Record<string, string>;
  /** Enabled mechanisms (default both). SCRAM users are created at format time. */
  mechanisms?: LauncherSaslMechanism[];
  /** PEM keystore (PKCS#8 key then certificate chain); required for SASL_SSL, see `certs.ts`. */
  keystoreFile?: string;
  /** Port of the PLAINTEXT internal listener (default: as before in `dataDir`, else free). */
  internalPort?: number;
}

/** Options of {@linkcode startKafka}. */
export interface KafkaOptions {
  /** Directory for configuration, partitions and the log; kept across restarts. */
  dataDir: string;
  /** Client port (default 9092). */
  port?: number;
  /** Controller port (default: the one used before in `dataDir`, else a free port). */
  controllerPort?: number;
  /** Interface to bind and advertise (default `127.0.0.1`). */
  host?: string;
  /** Topics to create when missing (default `topicSpecs()`). */
  topics?: TopicSpec[];
  /** Broker log file (default `<dataDir>/broker.log`). */
  logFile?: string;
  /** Extra `server.properties` entries; they win over the launcher's. */
  properties?: Record<string, PropertyValue>;
  /** Milliseconds to wait for the broker to answer metadata (default 90 000). */
  startTimeoutMs?: number;
  /** Java binary (default `java`). */
  java?: string;
  /** Kafka version (default {@linkcode KAFKA_VERSION}). */
  version?: string;
  /** Node id (default 1). */
  nodeId?: number;
  /** Cluster id used when formatting (default: random); every node of a cluster shares one. */
  clusterId?: string;
  /** A static multi-controller quorum this node belongs to (see `startKafkaCluster`). */
  voters?: QuorumVoter[];
  /** Replication factor of internal and created topics (default 1). */
  replicationFactor?: number;
  /** `min.insync.replicas` (default 1). */
  minInsyncReplicas?: number;
  /** SASL_PLAINTEXT or SASL_SSL on the client port (default: PLAINTEXT, no authentication). */
  security?: KafkaSecurityOptions;
  /** Maximum JVM heap in MB (default 512). */
  heapMb?: number;
}

/** A running broker; stop it with `stop()` or `await using`. */
export interface KafkaBroker {
  /** `host:port` for clients, e.g. `127.0.0.1:9092`. */
  readonly bootstrap: string;
  readonly host: string;
  readonly port: number;
  readonly controllerPort: number;
  /** The node id. */
  readonly nodeId: number;
  /** The client listener's protocol. */
  readonly securityProtocol: "PLAINTEXT" | "SASL_PLAINTEXT" | "SASL_SSL";
  /** A PLAINTEXT `host:port` (the internal listener when secured, else `bootstrap`). */
  readonly internalBootstrap: string;
  /** Absolute data directory. */
  readonly dataDir: string;
  /** Pid of the broker JVM. */
  readonly pid: number;
  /** Absolute path of the broker log. */
  readonly logFile: string;
  /** Resolves with the JVM's exit code when it exits, for whatever reason. */
  readonly exited: Promise<number>;
  /** SIGTERM (a clean shutdown), SIGKILL after `timeoutMs` (default 20 000); idempotent. */
  stop(timeoutMs?: number): Promise<void>;
  /** Sends a signal to the JVM, e.g. `SIGKILL` to simulate a crash. */
  kill(signal: Deno.Signal): void;
  /** Freezes the JVM (SIGSTOP): clients see a broker that stopped answering. */
  pause(): void;
  /** Thaws a paused JVM (SIGCONT). */
  resume(): void;
  [Symbol.asyncDispose](): Promise<void>;
}

const LOG4J_CONFIG = fileURLToPath(new URL("./log4j2.properties", import.meta.url));
const STATE_FILE = "launcher.json";

/** Starts a broker, waits until it answers metadata, creates the topics, and returns it. */
export async function startKafka(options: KafkaOptions): Promise<KafkaBroker> {
  const java = options.java ?? "java";
  const host = options.host ?? "127.0.0.1";
  const port = options.port ?? 9092;
  const dataDir = resolve(options.dataDir);
  const logDir = join(dataDir, "kraft");
  const logFile = resolve(options.logFile ?? join(dataDir, "broker.log"));
  const propertiesFile = join(dataDir, "server.properties");

  await checkJava(java);
  await Deno.mkdir(dataDir, { recursive: true });
  // The controller's address is recorded in the metadata log at format time, so a data
  // dir keeps its controller port across restarts.
  const state = await readState(dataDir);
  const controllerPort = options.controllerPort ?? state.controllerPort ?? freePort(host);
  const security = options.security;
  const internalPort = security
    ? security.internalPort ?? state.internalPort ?? freePort(host)
    : undefined;
  assertPortFree(host, port, "client");
  assertPortFree(host, controllerPort, "controller");
  if (internalPort !== undefined) assertPortFree(host, internalPort, "internal");
  if (security?.protocol === "SASL_SSL" && !security.keystoreFile) {
    throw new KafkaLauncherError(
      "Cannot start Kafka with SASL_SSL: security.keystoreFile is missing " +
        "(create one with createTestCertificates from kafka/certs.ts).",
    );
  }
  const mechanisms = security?.mechanisms ?? ["PLAIN", "SCRAM-SHA-512"];
  const libDir = await ensureKafkaJars({ version: options.version });
  const classpath = `${libDir}/*`;

  const props = serverProperties({
    host,
    port,
    controllerPort,
    logDir,
    overrides: options.properties,
    nodeId: options.nodeId,
    voters: options.voters,
    replicationFactor: options.replicationFactor,
    minInsyncReplicas: options.minInsyncReplicas,
    security: security && internalPort !== undefined
      ? {
        protocol: security.protocol,
        internalPort,
        plainUsers: mechanisms.includes("PLAIN") ? security.users : {},
        scram: mechanisms.includes("SCRAM-SHA-512"),
        keystoreFile: security.keystoreFile ? resolve(security.keystoreFile) : undefined,
      }
      : undefined,
  });
  await Deno.writeTextFile(propertiesFile, renderProperties(props));
  await formatOnce({
    java,
    classpath,
    propertiesFile,
    logDir,
    clusterId: options.clusterId,
    standalone: options.voters === undefined,
    scramUsers: mechanisms.includes("SCRAM-SHA-512") ? security?.users ?? {} : {},
  });
  await writeState(dataDir, { controllerPort, internalPort });

  const jvm = await spawnGuarded(java, [
    `-Xmx${options.heapMb ?? 512}m`,
    `-Xms${Math.min(256, options.heapMb ?? 512)}m`,
    "-XX:+UseG1GC",
    "-XX:MaxGCPauseMillis=20",
    "-Djava.awt.headless=true",
    `-Dlog4j2.configurationFile=${LOG4J_CONFIG}`,
    "-cp",
    classpath,
    "kafka.Kafka",
    propertiesFile,
  ], { logFile, cwd: dataDir });
  const bootstrap = `${host}:${port}`;
  const internalBootstrap = `${host}:${internalPort ?? port}`;
  const timeoutMs = options.startTimeoutMs ?? 90_000;
  try {
    await waitForMetadata(internalBootstrap, {
      deadline: Date.now() + timeoutMs,
      abortReason: () => jvm.hasExited ? "the broker JVM exited" : undefined,
    });
    await ensureTopics(
      internalBootstrap,
      options.topics ?? topicSpecs(),
      options.replicationFactor ?? 1,
    );
  } catch (error) {
    const code = jvm.hasExited ? await jvm.exited : await jvm.stop(5_000);
    const why = jvm.hasExited && code !== 143
      ? `the broker exited with code ${code} before it was ready`
      : `it did not answer within ${timeoutMs} ms`;
    throw new KafkaLauncherError(
      `Cannot start Kafka on ${bootstrap}: ${why} (${describe(error)}); ` +
        `last lines of ${logFile}:\n${await tailFile(logFile, 30)}`,
      { retriable: true, cause: error },
    );
  }
  return brokerHandle({
    jvm,
    bootstrap,
    internalBootstrap,
    host,
    port,
    controllerPort,
    nodeId: options.nodeId ?? 1,
    securityProtocol: security?.protocol ?? "PLAINTEXT",
    dataDir,
    logFile,
  });
}

function brokerHandle(
  fields: Omit<KafkaBroker, "exited" | "pid" | "stop" | "kill" | "pause" | "resume" | symbol> & {
    jvm: GuardedProcess;
  },
): KafkaBroker {
  const { jvm, ...rest } = fields;
  const stop = async (timeoutMs = 20_000) => {
    await jvm.stop(timeoutMs);
  };
  return {
    ...rest,
    pid: jvm.pid,
    exited: jvm.exited,
    stop,
    kill: (signal) => jvm.kill(signal),
    pause: () => jvm.kill("SIGSTOP"),
    resume: () => jvm.kill("SIGCONT"),
    [Symbol.asyncDispose]: () => stop(),
  };
}

/** Formats KRaft storage unless `meta.properties` shows it was formatted before. */
async function formatOnce(
  args: {
    java: string;
    classpath: string;
    propertiesFile: string;
    logDir: string;
    clusterId?: string;
    /** A one-node dynamic quorum; false for a static `controller.quorum.voters` one. */
    standalone: boolean;
    scramUsers: Record<string, string>;
  },
): Promise<void> {
  if (await exists(join(args.logDir, "meta.properties"))) return;
  const scram = Object.entries(args.scramUsers).flatMap((
    [name, password],
  ) => ["--add-scram", `SCRAM-SHA-512=[name=${name},password=${password}]`]);
  const out = await new Deno.Command(args.java, {
    args: [
      "-Xmx256m",
      `-Dlog4j2.configurationFile=${LOG4J_CONFIG}`,
      "-cp",
      args.classpath,
      "kafka.tools.StorageTool",
      "format",
      "--config",
      args.propertiesFile,
      "--cluster-id",
      args.clusterId ?? randomClusterId(),
      ...(args.standalone ? ["--standalone"] : []),
      ...scram,
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    throw new KafkaLauncherError(
      `Cannot format Kafka storage in ${args.logDir}: StorageTool exited with code ` +
        `${out.code}:\n${text.trim().split("\n").slice(-15).join("\n")}`,
    );
  }
}

/** A Kafka cluster id: 16 random bytes, base64url without padding, like `random-uuid`. */
export function randomClusterId(): string {
  for (;;) {
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    const id = btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_")
      .replace(/=+$/, "");
    // Kafka rejects ids that start with "-" (they read as command-line flags).
    if (!id.startsWith("-")) return id;
  }
}

interface LauncherState {
  controllerPort?: number;
  internalPort?: number;
}

async function readState(dataDir: string): Promise<LauncherState> {
  try {
    const parsed = JSON.parse(await Deno.readTextFile(join(dataDir, STATE_FILE)));
    const state: LauncherState = {};
    if (typeof parsed?.controllerPort === "number") state.controllerPort = parsed.controllerPort;
    if (typeof parsed?.internalPort === "number") state.internalPort = parsed.internalPort;
    return state;
  } catch {
    return {};
  }
}

async function writeState(dataDir: string, state: LauncherState): Promise<void> {
  await Deno.writeTextFile(join(dataDir, STATE_FILE), JSON.stringify(state) + "\n");
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

async function tailFile(path: string, lines: number): Promise<string> {
  try {
    const text = await Deno.readTextFile(path);
    return text.trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log written)";
  }
}

function describe(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause.message : "";
  return cause ? `${message}: ${cause}` : message;
}
