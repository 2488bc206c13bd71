// deno-lint-ignore-file no-console
/**
 * `deno task dev`: a local broker (reused when one already listens on the port,
 * skipped when KAFKA_BROKERS is set), then the producer and the consumer in watch
 * mode, and a Prometheus scraping them when `prometheus` is installed. Their output
 * shares our stdout: prefixed text for people (coloured only on a terminal), or JSON
 * Lines with `--json` / `LOG_FORMAT=json`. One Ctrl-C stops everything.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { createDevOutput } from "./prefixed.ts";
import { startDevPrometheus } from "./dev_prometheus.ts";

const HELP = `Usage: deno task dev [--json]

Starts a local Kafka broker on localhost:\${KAFKA_PORT:-9092} (or reuses one already
listening there; with KAFKA_BROKERS set, uses that cluster instead), then the producer
(PRODUCER_PORT, 8000) and the consumer (CONSUMER_PORT, 8001) with --watch, and, when
prometheus is installed, a Prometheus scraping them (PROMETHEUS_PORT, 9090; data in
PROMETHEUS_DATA_DIR, .data/prometheus). Ctrl-C stops everything.

  --json   JSON Lines on stdout, one object per line with a "service" field
           (also LOG_FORMAT=json); the default is readable text, coloured on a terminal.`;

const { values: flags } = parseArgs({
  args: Deno.args,
  options: { help: { type: "boolean" }, json: { type: "boolean" } },
});
if (flags.help) {
  console.log(HELP);
  Deno.exit(0);
}

const env = Deno.env.toObject();
const json = flags.json === true || env.LOG_FORMAT?.trim().toLowerCase() === "json";
const color = !json && Deno.stdout.isTerminal() && !Deno.noColor;
const kafkaPort = Number(env.KAFKA_PORT ?? "9092");
const producerPort = Number(env.PRODUCER_PORT ?? "8000");
const consumerPort = Number(env.CONSUMER_PORT ?? "8001");
const prometheusPort = Number(env.PROMETHEUS_PORT ?? "9090");
const root = new URL("..", import.meta.url).pathname;
const encoder = new TextEncoder();
const output = createDevOutput({
  json,
  write: (text) => Deno.stdout.writeSync(encoder.encode(text)),
});
const children: Deno.ChildProcess[] = [];
/** Copies of the processes' output, awaited before exit so no last line is lost. */
const outputs: Promise<void>[] = [];

function pipeOutput(child: Deno.ChildProcess, service: string, onLine?: (line: string) => void) {
  outputs.push(
    output.pipe(child.stdout, service, "stdout", onLine).catch(() => {}),
    output.pipe(child.stderr, service, "stderr").catch(() => {}),
  );
}

function spawnService(service: "producer" | "consumer", serviceEnv: Record<string, string>) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--watch", `${root}${service}/main.ts`],
    env: serviceEnv,
    // Their own process group: a terminal's Ctrl-C reaches only us, and we pass on
    // exactly one SIGINT, the signal --watch turns into a graceful stop (a second
    // one from the group would cut the service's shutdown short).
    detached: true,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  children.push(child);
  pipeOutput(child, service);
  return child;
}

async function isListening(port: number): Promise<boolean> {
  try {
    const connection = await Deno.connect({ hostname: "127.0.0.1", port });
    connection.close();
    return true;
  } catch {
    return false;
  }
}

let broker: Deno.ChildProcess | undefined;
let brokerLog: string | undefined;
let prometheus: Deno.ChildProcess | undefined;

function terminate(child: Deno.ChildProcess): Promise<Deno.CommandStatus> {
  try {
    child.kill("SIGTERM");
  } catch { /* already gone */ }
  return child.status;
}

/** How long services get to finish before they are killed. */
const GRACE_MS = 30_000;
let stopping: Promise<never> | undefined;

/** SIGINT (a graceful stop, also under --watch), then SIGKILL after the grace period. */
async function stopService(child: Deno.ChildProcess): Promise<void> {
  try {
    child.kill("SIGINT");
  } catch { /* already gone */ }
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<"late">((resolve) =>
    timer = setTimeout(() => resolve("late"), GRACE_MS)
  );
  if (await Promise.race([child.status, late]) === "late") {
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
  }
  clearTimeout(timer);
  await child.status;
}

/** Services (and Prometheus) first, so they can commit and leave the group while Kafka is up. */
function stopAll(code: number): Promise<never> {
  return stopping ??= (async () => {
    const services = children.filter((child) => child !== broker && child !== prometheus);
    await Promise.allSettled([
      ...services.map(stopService),
      ...(prometheus ? [terminate(prometheus)] : []),
    ]);
    if (broker) {
      const status = await terminate(broker).catch(() => undefined);
      await Promise.allSettled(outputs);
      output.line(
        "kafka",
        `broker stopped (exit code ${status?.code ?? "unknown"}); log: ${brokerLog}`,
        "stdout",
      );
    }
    await Promise.allSettled(outputs);
    Deno.exit(code);
  })();
}

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  Deno.addSignalListener(signal, () => {
    if (!stopping) output.say("stopping...");
    stopAll(0);
  });
}

let brokers = env.KAFKA_BROKERS;
if (brokers) {
  output.say(`using the Kafka cluster in KAFKA_BROKERS: ${brokers}`);
} else if (await isListening(kafkaPort)) {
  brokers = `localhost:${kafkaPort}`;
  output.say(`reusing the Kafka broker already listening on ${brokers}`);
} else {
  // --ignore-sigint: a terminal's Ctrl-C reaches every process of the group; the
  // broker must outlive the services' shutdown, so it stops on our SIGTERM instead.
  const kafka = broker = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${root}kafka/main.ts`, "--ignore-sigint"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  children.push(kafka);
  const ready = Promise.withResolvers<void>();
  pipeOutput(kafka, "kafka", (line) => {
    if (/Kafka ready on/.test(line)) ready.resolve();
  });
  kafka.status.then(() => ready.reject(new Error("the local broker exited before it was ready")));
  try {
    await ready.promise;
  } catch (error) {
    await Promise.allSettled(outputs);
    console.error(`${(error as Error).message} (see its output above)`);
    await stopAll(1);
  }
  brokers = `localhost:${kafkaPort}`;
  brokerLog = `${env.KAFKA_DATA_DIR ?? ".data/kafka"}/broker.log`;
}

const serviceEnv = {
  KAFKA_BROKERS: brokers,
  // The services always print what the mode asks for; colour only on our terminal.
  LOG_FORMAT: json ? "json" : "pretty",
  ...(color ? {} : { NO_COLOR: "1" }),
  // `deno task` may cut a service's shutdown short on Ctrl-C, and --watch restarts
  // on every save: a short session lets a restarted consumer take its partitions
  // back within seconds instead of waiting out the previous member's 30 s session.
  CONSUMER_SESSION_TIMEOUT_MS: env.CONSUMER_SESSION_TIMEOUT_MS ?? "10000",
};
spawnService("producer", serviceEnv);
spawnService("consumer", serviceEnv);

let prometheusLine: string;
if (await isListening(prometheusPort)) {
  prometheusLine = `Prometheus not started: port ${prometheusPort} (PROMETHEUS_PORT) is taken`;
} else {
  const started = await startDevPrometheus({
    root,
    dataDir: env.PROMETHEUS_DATA_DIR ?? `${root}.data/prometheus`,
    producerPort,
    consumerPort,
    prometheusPort,
  });
  if (started.started) {
    prometheus = started.child;
    pipeOutput(prometheus, "prometheus");
    // Optional: if it stops (a bad rule file), say so and keep the services running.
    prometheus.status.then((status) => {
      if (!stopping) output.say(`Prometheus exited with code ${status.code} (see above)`);
    });
    prometheusLine = `Prometheus   ${started.url}  (config ${started.configFile})`;
  } else {
    prometheusLine = started.reason;
  }
}

const banner = [
  `API          http://localhost:${producerPort}/payments/batch`,
  `API docs     http://localhost:${producerPort}/docs`,
  `metrics      http://localhost:${producerPort}/metrics  http://localhost:${consumerPort}/metrics`,
  `health       http://localhost:${producerPort}/health   http://localhost:${consumerPort}/health`,
  prometheusLine,
  ...(brokerLog ? [`broker log   ${brokerLog}`] : []),
  "Ctrl-C stops everything.",
];
if (json) {
  for (const line of banner) output.say(line);
} else {
  output.say(["", ...banner.map((line) => `  ${line}`), ""].join("\n"));
}

// A service or the broker that dies (not a file change: --watch restarts those) ends
// the session; Prometheus is optional and does not.
const essential = children.filter((child) => child !== prometheus);
const first = await Promise.race(essential.map(async (child) => ({ status: await child.status })));
if (stopping) await stopping;
output.say(`a process exited with code ${first.status.code}; stopping the rest`);
await stopAll(first.status.code === 0 ? 0 : 1);
