// deno-lint-ignore-file no-console
/**
 * `deno task dev`: a local broker (reused when one already listens on the default
 * port, skipped when KAFKA_BROKERS is set), then the producer and the consumer in
 * watch mode, their logs interleaved with a prefix. One Ctrl-C stops everything.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { pipePrefixed } from "./prefixed.ts";

const HELP = `Usage: deno task dev

Starts a local Kafka broker on localhost:\${KAFKA_PORT:-9092} (or reuses one already
listening there; with KAFKA_BROKERS set, uses that cluster instead), then the producer
(PRODUCER_PORT, 8000) and the consumer (CONSUMER_PORT, 8001) with --watch.
Ctrl-C stops everything.`;

if (parseArgs({ args: Deno.args, options: { help: { type: "boolean" } } }).values.help) {
  console.log(HELP);
  Deno.exit(0);
}

const env = Deno.env.toObject();
const kafkaPort = Number(env.KAFKA_PORT ?? "9092");
const producerPort = env.PRODUCER_PORT ?? "8000";
const consumerPort = env.CONSUMER_PORT ?? "8001";
const encoder = new TextEncoder();
const write = (text: string) => Deno.stdout.writeSync(encoder.encode(text));
const children: Deno.ChildProcess[] = [];
/** Copies of the services' output, awaited before exit so no last line is lost. */
const outputs: Promise<void>[] = [];

function spawn(prefix: string, args: string[], extraEnv: Record<string, string> = {}) {
  const child = new Deno.Command(Deno.execPath(), {
    args,
    env: extraEnv,
    // Their own process group: a terminal's Ctrl-C reaches only us, and we pass on
    // exactly one SIGINT, the signal --watch turns into a graceful stop (a second
    // one from the group would cut the service's shutdown short).
    detached: true,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  children.push(child);
  outputs.push(
    pipePrefixed(child.stdout, prefix, write).catch(() => {}),
    pipePrefixed(child.stderr, prefix, write).catch(() => {}),
  );
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

async function waitForLine(child: Deno.ChildProcess, prefix: string, pattern: RegExp) {
  // The broker's output is read here until its ready line, then streamed as usual.
  let seen = "";
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  while (true) {
    const { value, done } = await reader.read();
    if (done) throw new Error("the local broker exited before it was ready (see its log above)");
    seen += value;
    const lines = seen.split("\n");
    seen = lines.pop() ?? "";
    for (const line of lines) write(`${prefix}${line}\n`);
    if (lines.some((line) => pattern.test(line))) break;
  }
  (async () => {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      write(value.split("\n").filter(Boolean).map((l) => `${prefix}${l}\n`).join(""));
    }
  })().catch(() => {});
}

let broker: Deno.ChildProcess | undefined;

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

/** Services first, so they can commit and leave the group while Kafka is still up. */
function stopAll(code: number): Promise<never> {
  return stopping ??= (async () => {
    await Promise.allSettled(children.filter((child) => child !== broker).map(stopService));
    await Promise.allSettled(outputs);
    if (broker) await terminate(broker).catch(() => {});
    Deno.exit(code);
  })();
}

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  Deno.addSignalListener(signal, () => {
    if (!stopping) write("\nstopping...\n");
    stopAll(0);
  });
}

let brokers = env.KAFKA_BROKERS;
if (brokers) {
  write(`using the Kafka cluster in KAFKA_BROKERS: ${brokers}\n`);
} else if (await isListening(kafkaPort)) {
  brokers = `localhost:${kafkaPort}`;
  write(`reusing the Kafka broker already listening on ${brokers}\n`);
} else {
  // --ignore-sigint: a terminal's Ctrl-C reaches every process of the group; the
  // broker must outlive the services' shutdown, so it stops on our SIGTERM instead.
  const kafkaArgs = [
    "run",
    "-A",
    new URL("../kafka/main.ts", import.meta.url).pathname,
    "--ignore-sigint",
  ];
  const kafka = broker = new Deno.Command(Deno.execPath(), {
    args: kafkaArgs,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  children.push(kafka);
  pipePrefixed(kafka.stderr, "[kafka]    ", write).catch(() => {});
  try {
    await waitForLine(kafka, "[kafka]    ", /Kafka ready on/);
  } catch (error) {
    console.error((error as Error).message);
    await stopAll(1);
  }
  brokers = `localhost:${kafkaPort}`;
}

const serviceEnv = {
  KAFKA_BROKERS: brokers,
  LOG_FORMAT: env.LOG_FORMAT ?? "pretty",
  // `deno task` may cut a service's shutdown short on Ctrl-C, and --watch restarts
  // on every save: a short session lets a restarted consumer take its partitions
  // back within seconds instead of waiting out the previous member's 30 s session.
  CONSUMER_SESSION_TIMEOUT_MS: env.CONSUMER_SESSION_TIMEOUT_MS ?? "10000",
};
const root = new URL("..", import.meta.url).pathname;
spawn("[producer] ", ["run", "-A", "--watch", `${root}producer/main.ts`], serviceEnv);
spawn("[consumer] ", ["run", "-A", "--watch", `${root}consumer/main.ts`], serviceEnv);

write(
  [
    "",
    `  API          http://localhost:${producerPort}/payments/batch`,
    `  API docs     http://localhost:${producerPort}/docs`,
    `  metrics      http://localhost:${producerPort}/metrics  http://localhost:${consumerPort}/metrics`,
    `  health       http://localhost:${producerPort}/health   http://localhost:${consumerPort}/health`,
    "  Ctrl-C stops everything.",
    "",
  ].join("\n"),
);

// A service that dies (not a file change: --watch restarts those) ends the session.
const first = await Promise.race(children.map(async (child) => ({ status: await child.status })));
if (stopping) await stopping;
write(`a process exited with code ${first.status.code}; stopping the rest\n`);
await stopAll(first.status.code === 0 ? 0 : 1);
