/**
 * A throw-away Kafka broker: the local launcher's broker on free ports in a fresh
 * temporary directory, that can be halted, crashed, frozen and started again on the same
 * data. What `deno task bench` and `deno task test` run against when `KAFKA_BROKERS` names
 * no cluster, and what a test that stops or restarts its broker starts for itself
 * (through `@payments/testing/brokers`).
 *
 * @example
 * ```ts
 * import { startThrowawayBroker } from "@payments/stack/broker";
 * await using broker = await startThrowawayBroker({ topics: [] });
 * await broker.restart(); // same data, same port
 * ```
 *
 * @module
 */
import { type KafkaBroker, type KafkaOptions, startKafka } from "@payments/kafka/launcher";
import { freePort } from "@payments/kafka/ports";

export type { KafkaBroker } from "@payments/kafka/launcher";

/** Options of {@linkcode startThrowawayBroker}; every launcher option except `dataDir`. */
export interface ThrowawayBrokerOptions extends Partial<KafkaOptions> {
  /** Keep the data directory after `stop()` (default: removed, unless `dataDir` was given). */
  keepData?: boolean;
}

/** A broker on free ports in a temporary directory that can be halted and started again. */
export interface ThrowawayBroker {
  /** `127.0.0.1:<port>`; unchanged across restarts. */
  readonly bootstrap: string;
  /** A PLAINTEXT address (differs from `bootstrap` when the client listener is secured). */
  readonly internalBootstrap: string;
  readonly port: number;
  readonly dataDir: string;
  readonly logFile: string;
  /** Pid of the current JVM (a new one after each start). */
  readonly pid: number;
  /** Whether a JVM is currently running (started and not halted). */
  readonly running: boolean;
  /** The current JVM's handle; throws while halted. */
  readonly broker: KafkaBroker;
  /** Stops the JVM cleanly, keeping the data (a broker outage). */
  halt(): Promise<void>;
  /** Starts the JVM again on the same data and ports; no-op while running. */
  start(): Promise<void>;
  /** `halt()` then `start()`: a planned broker restart. */
  restart(): Promise<void>;
  /** Kills the JVM with SIGKILL, keeping the data (a broker crash). */
  crash(): Promise<void>;
  /** Freezes / thaws the JVM (SIGSTOP / SIGCONT): a broker that stops answering. */
  pause(): void;
  resume(): void;
  /** Halts the JVM and removes the data directory unless `keepData`. Idempotent. */
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** Starts a broker on free ports in a fresh temporary directory. */
export async function startThrowawayBroker(
  options: ThrowawayBrokerOptions = {},
): Promise<ThrowawayBroker> {
  const { keepData: _keep, ...launch } = options;
  // A directory the caller chose is the caller's to remove.
  const keepData = _keep ?? launch.dataDir !== undefined;
  const host = launch.host ?? "127.0.0.1";
  const dataDir = launch.dataDir ?? await Deno.makeTempDir({ prefix: "payments-kafka-" });
  const config: KafkaOptions = {
    ...launch,
    host,
    dataDir,
    port: launch.port ?? freePort(host),
    controllerPort: launch.controllerPort ?? freePort(host),
    ...(launch.security
      ? {
        security: {
          ...launch.security,
          internalPort: launch.security.internalPort ?? freePort(host),
        },
      }
      : {}),
  };
  let current: KafkaBroker | undefined;
  let stopped = false;
  try {
    current = await startKafka(config);
  } catch (error) {
    if (!keepData) await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    throw error;
  }
  const first = current;

  const halt = async () => {
    const broker = current;
    current = undefined;
    await broker?.stop();
  };
  const start = async () => {
    if (stopped) throw new Error("Cannot start a throw-away broker after stop()");
    current ??= await startKafka(config);
  };
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await halt();
    if (!keepData) await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  };
  const running = () => {
    if (!current) throw new Error("The throw-away broker is halted; call start() first");
    return current;
  };
  return {
    bootstrap: first.bootstrap,
    internalBootstrap: first.internalBootstrap,
    port: first.port,
    dataDir: first.dataDir,
    logFile: first.logFile,
    get pid() {
      return running().pid;
    },
    get running() {
      return current !== undefined;
    },
    get broker() {
      return running();
    },
    halt,
    start,
    restart: async () => {
      await halt();
      await start();
    },
    crash: async () => {
      const broker = current;
      current = undefined;
      broker?.kill("SIGKILL");
      await broker?.exited;
    },
    pause: () => running().pause(),
    resume: () => running().resume(),
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
