/**
 * Brokers for tests. Integration tests normally share the one broker that the root test
 * runner (`deno task test`) starts and announces in `KAFKA_BROKERS`; a test that stops,
 * pauses or restarts a broker mid-test starts its own throw-away broker instead.
 *
 * @example
 * ```ts
 * import { startThrowawayBroker } from "@payments/kafka/harness";
 * Deno.test("survives a broker restart", async () => {
 *   await using broker = await startThrowawayBroker();
 *   // ... produce to broker.bootstrap ...
 *   await broker.restart();
 * });
 * ```
 *
 * @module
 */
import { type KafkaBroker, type KafkaOptions, startKafka } from "./launcher.ts";
import { freePort } from "./ports.ts";
import { muteKafkajsTimeoutWarning } from "@payments/shared/kafkajs_quiet";
import { registerKafkaCodecs } from "@payments/shared/kafka_codecs";

export { freePort } from "./ports.ts";
export { muteKafkajsTimeoutWarning } from "@payments/shared/kafkajs_quiet";
export type { KafkaBroker } from "./launcher.ts";

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
  muteKafkajsTimeoutWarning();
  // The test's own kafkajs clients read what the services and kcat write, compressed.
  registerKafkaCodecs();
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

/**
 * The brokers of the shared test broker, from `KAFKA_BROKERS` (comma-separated).
 * Throws when it is unset, so an integration test is never skipped silently.
 * Registers every compression codec with kafkajs, as the services' main.ts do, so the
 * test's own clients read whatever the services and kcat write.
 */
export function sharedBrokers(env: Pick<Deno.Env, "get"> = Deno.env): string[] {
  registerKafkaCodecs();
  const raw = env.get("KAFKA_BROKERS")?.trim();
  if (!raw) {
    throw new Error(
      "integration tests need a broker: run them through `deno task test`, or set KAFKA_BROKERS " +
        "(e.g. KAFKA_BROKERS=127.0.0.1:9092 with `deno task kafka` running)",
    );
  }
  return raw.split(",").map((b) => b.trim()).filter((b) => b.length > 0);
}

/** Rejects with "`what` timed out after N ms" unless `promise` settles first; clears its timer. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
