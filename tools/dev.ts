// deno-lint-ignore-file no-console
/**
 * `deno task dev`: a local broker (reused when one already listens on the port,
 * skipped when KAFKA_BROKERS is set), a Jaeger receiving the services' traces when Go
 * can build it (`dev_jaeger.ts`), then the producer and the consumer in watch
 * mode, a Prometheus scraping them when `prometheus` is installed and an Alertmanager
 * whose alerts are printed here when `prometheus-alertmanager` is. Their output shares
 * our stdout: prefixed text for people (coloured only on a terminal), or JSON Lines
 * with `--json` / `LOG_FORMAT=json`. Any stop signal (Ctrl-C, SIGTERM, SIGHUP, to dev or
 * to its process group), or a service stopped on its own, stops everything in order.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { ensureJaeger } from "@payments/jaeger/build";
import { telemetryEnvFlag } from "@payments/stack/telemetry";
import { alertLine, startAlertReceiver } from "./dev_alert_receiver.ts";
import { devAlertmanager } from "./dev_alertmanager.ts";
import { type DevTraces, devTraces, devTracingEnv, traceCurlLine } from "./dev_jaeger.ts";
import { CHILD_OPTIONS, createSupervisor, isWatcherFinished } from "./dev_processes.ts";
import { devPrometheus } from "./dev_prometheus.ts";
import { ensurePrerequisites } from "./install_prerequisites.ts";
import { createDevOutput } from "./prefixed.ts";

const HELP = `Usage: deno task dev [--json]

Starts a local Kafka broker on localhost:\${KAFKA_PORT:-9092} (or reuses one already
listening there; with KAFKA_BROKERS set, uses that cluster instead); a Jaeger for the
services' traces (OTLP on JAEGER_OTLP_HTTP_PORT, 4318, query API on JAEGER_QUERY_PORT,
16686; data in JAEGER_DATA_DIR, .data/jaeger) when one already listens there or Go can
build it (once, about 5 minutes; with OTEL_EXPORTER_OTLP_ENDPOINT set the traces go
there instead, and without Go they are off); then the producer
(PRODUCER_PORT, 8000) and the consumer (CONSUMER_PORT, 8001) with --watch; when
prometheus is installed, a Prometheus scraping them (PROMETHEUS_PORT, 9090; data in
PROMETHEUS_DATA_DIR, .data/prometheus), and when prometheus-alertmanager is, an
Alertmanager with the project's routing (ALERTMANAGER_PORT, 9093; data in
ALERTMANAGER_DATA_DIR, .data/alertmanager) whose alerts are printed as [alerts] lines.
A JDK and Maven (for the broker) are installed first when missing and possible.
The services' JSON Lines also go to DEV_LOG_DIR (.data/logs)/producer.log and
consumer.log. Ctrl-C, SIGTERM or SIGHUP stops everything: the services first, the
broker last.

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
const port = (name: string, fallback: number) => Number(env[name] ?? fallback);
const ports = {
  kafka: port("KAFKA_PORT", 9092),
  producer: port("PRODUCER_PORT", 8000),
  consumer: port("CONSUMER_PORT", 8001),
  prometheus: port("PROMETHEUS_PORT", 9090),
  alertmanager: port("ALERTMANAGER_PORT", 9093),
};
const root = new URL("..", import.meta.url).pathname;
const encoder = new TextEncoder();
const output = createDevOutput({
  json,
  write: (text) => Deno.stdout.writeSync(encoder.encode(text)),
});
const processes = createSupervisor({ output });

for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  Deno.addSignalListener(signal, () => {
    if (!processes.stopping) output.say("stopping...");
    processes.stopAll(0);
  });
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

// 1. Kafka.
let brokers = env.KAFKA_BROKERS;
let brokerLog: string | undefined;
if (brokers) {
  output.say(`using the Kafka cluster in KAFKA_BROKERS: ${brokers}`);
} else if (await isListening(ports.kafka)) {
  brokers = `localhost:${ports.kafka}`;
  output.say(`reusing the Kafka broker already listening on ${brokers}`);
} else {
  if (!await ensurePrerequisites("dev", { say: (line) => output.say(line) })) Deno.exit(1);
  brokerLog = `${env.KAFKA_DATA_DIR ?? ".data/kafka"}/broker.log`;
  const ready = Promise.withResolvers<void>();
  // --ignore-sigint: a SIGINT meant for the services never stops the broker first.
  const kafka = processes.spawn(
    "kafka",
    "broker",
    new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", `${root}kafka/main.ts`, "--ignore-sigint"],
      ...CHILD_OPTIONS,
    }),
    {
      onLine: (line) => /Kafka ready on/.test(line) && ready.resolve(),
      stoppedNote: `log: ${brokerLog}`,
    },
  );
  kafka.status.then(() => ready.reject(new Error("the local broker exited before it was ready")));
  try {
    await ready.promise;
  } catch (error) {
    await processes.flush();
    console.error(`${(error as Error).message} (see its output above)`);
    await processes.stopAll(1);
  }
  brokers = `localhost:${ports.kafka}`;
}

// 2. Traces: a Jaeger when one runs or can be built, else a line saying how (dev_jaeger.ts).
let traces: DevTraces = await devTraces({
  root,
  env,
  dataDir: env.JAEGER_DATA_DIR ?? `${root}.data/jaeger`,
  isListening,
  ensureJaeger: () => ensureJaeger({ log: (line) => output.say(line) }),
});
if (traces.on && traces.command) {
  const ready = Promise.withResolvers<void>();
  const jaeger = processes.spawn("jaeger", "auxiliary", traces.command, {
    onLine: (line) => /^Jaeger \S+ ready/.test(line) && ready.resolve(),
  });
  jaeger.status.then((status) => {
    ready.reject(new Error(`Jaeger exited with code ${status.code} (see above)`));
    if (!processes.stopping) output.say(`Jaeger exited with code ${status.code}`);
  });
  try {
    await ready.promise;
  } catch (error) {
    // Optional, as Prometheus is: the services run without traces.
    traces = { on: false, line: `Jaeger not started, traces off: ${(error as Error).message}` };
  }
}

// 3. The services, in watch mode; each also keeps its JSON Lines in a file, for the
// searches the docs give (a file outlives the terminal's scrollback).
const logDir = env.DEV_LOG_DIR ?? ".data/logs";
await Deno.mkdir(logDir, { recursive: true });
const serviceEnv = {
  KAFKA_BROKERS: brokers,
  // The services always print what the mode asks for; colour only on our terminal.
  LOG_FORMAT: json ? "json" : "pretty",
  ...(color ? {} : { NO_COLOR: "1" }),
  // --watch restarts on every save: a short session lets a restarted consumer take its
  // partitions back within seconds instead of waiting out the previous member's 30 s.
  CONSUMER_SESSION_TIMEOUT_MS: env.CONSUMER_SESSION_TIMEOUT_MS ?? "10000",
  // Where the producer asks the consumer for a payment's status: this machine, whatever
  // its host name resolves to.
  CONSUMER_ADVERTISED_URL: env.CONSUMER_ADVERTISED_URL ?? `http://127.0.0.1:${ports.consumer}`,
  ...devTracingEnv(traces, env),
};
for (const service of ["producer", "consumer"] as const) {
  processes.spawn(
    service,
    "service",
    new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--watch", telemetryEnvFlag(service), `${root}${service}/main.ts`],
      // One file each: two processes must not rotate the same file.
      env: { ...serviceEnv, LOG_FILE: `${logDir}/${service}.log` },
      ...CHILD_OPTIONS,
    }),
    {
      // A service that stopped cleanly on a signal of its own (SIGTERM to its pid) is
      // a stop request: under --watch its process would wait for a file change instead.
      onLine: (line) => {
        if (!isWatcherFinished(line) || processes.stopping) return;
        output.say(`the ${service} stopped; stopping the rest`);
        processes.stopAll(0);
      },
    },
  );
}

// 4. Alerts: Alertmanager first, so Prometheus can be pointed at it.
const alerts = startAlertReceiver((alert, receiver) =>
  output.line("alerts", alertLine(alert, receiver, json), "stdout")
);
let alertmanagerLine: string;
let alertmanagerPort: number | undefined;
if (await isListening(ports.alertmanager)) {
  alertmanagerLine =
    `Alertmanager not started: port ${ports.alertmanager} (ALERTMANAGER_PORT) is taken`;
} else {
  const found = await devAlertmanager({
    root,
    dataDir: env.ALERTMANAGER_DATA_DIR ?? `${root}.data/alertmanager`,
    port: ports.alertmanager,
    urlOf: alerts.url,
  });
  if (found.found) {
    const child = processes.spawn("alertmanager", "auxiliary", found.command);
    child.status.then((status) => {
      if (!processes.stopping) output.say(`Alertmanager exited with code ${status.code}`);
    });
    alertmanagerPort = ports.alertmanager;
    alertmanagerLine = `Alertmanager ${found.url}  (alerts print here as [alerts] lines)`;
  } else {
    alertmanagerLine = found.reason;
  }
}

let prometheusLine: string;
if (await isListening(ports.prometheus)) {
  prometheusLine = `Prometheus not started: port ${ports.prometheus} (PROMETHEUS_PORT) is taken`;
} else {
  const found = await devPrometheus({
    root,
    dataDir: env.PROMETHEUS_DATA_DIR ?? `${root}.data/prometheus`,
    producerPort: ports.producer,
    consumerPort: ports.consumer,
    prometheusPort: ports.prometheus,
    ...(alertmanagerPort ? { alertmanagerPort } : {}),
  });
  if (found.found) {
    const child = processes.spawn("prometheus", "auxiliary", found.command);
    // Optional: if it stops (a bad rule file), say so and keep the services running.
    child.status.then((status) => {
      if (!processes.stopping) output.say(`Prometheus exited with code ${status.code} (see above)`);
    });
    prometheusLine = `Prometheus   ${found.url}  (config ${found.configFile})`;
  } else {
    prometheusLine = found.reason;
  }
}

const banner = [
  `API          http://localhost:${ports.producer}/payments/batch`,
  `API docs     http://localhost:${ports.producer}/docs`,
  `metrics      http://localhost:${ports.producer}/metrics  http://localhost:${ports.consumer}/metrics`,
  `health       http://localhost:${ports.producer}/health   http://localhost:${ports.consumer}/health`,
  prometheusLine,
  alertmanagerLine,
  traces.line,
  ...(traces.on && traces.queryUrl ? [`trace        ${traceCurlLine(traces.queryUrl)}`] : []),
  `logs         ${logDir}/producer.log  ${logDir}/consumer.log  (JSON Lines)`,
  ...(brokerLog ? [`broker log   ${brokerLog}`] : []),
  "Ctrl-C stops everything.",
];
if (json) {
  for (const line of banner) output.say(line);
} else {
  output.say(["", ...banner.map((line) => `  ${line}`), ""].join("\n"));
}

// A service or the broker that dies (not a file change: --watch restarts those) ends
// the session; Prometheus and Alertmanager are optional and do not.
const first = await processes.firstExit();
if (processes.stopping) await new Promise(() => {}); // the stop in progress exits
output.say(`the ${first.name} exited with code ${first.code}; stopping the rest`);
await alerts[Symbol.asyncDispose]();
await processes.stopAll(first.code === 0 ? 0 : 1);
