// deno-lint-ignore-file no-console
/**
 * `deno task test`: formatting, lint and type checks, then every test, with the
 * integration tests pointed at one throw-away Kafka broker that this script starts
 * and always stops (unless `KAFKA_BROKERS` names a cluster to use instead).
 *
 * Ends with one line `N passed, N failed` and a non-zero exit on any failure.
 *
 * @module
 */
import { startThrowawayBroker } from "@payments/stack/broker";
import { ensurePrerequisites } from "./install_prerequisites.ts";
import { summarizeDenoTest } from "./test_summary.ts";
import { parseTestArguments } from "./test_arguments.ts";

const HELP = `Usage: deno task test [--no-checks] [deno test arguments...]

Runs deno fmt --check, deno lint and deno check (skipped with --no-checks), installs
what the tests need when it is missing (tools/prerequisites.ts: tools, Go, and a Jaeger
built with it, which the tracing tests start on free ports), starts a throw-away Kafka
broker (unless KAFKA_BROKERS is set), runs the tests against it, stops it. Other arguments go to deno test as written: paths of test files or
folders, --filter <name>, ... The fault-injection suite (chaos/) runs only when an
argument names it (it has its own task, deno task test:chaos).`;

const options = parseTestArguments(Deno.args);
if (options.help) {
  console.log(HELP);
  Deno.exit(0);
}

async function run(label: string, args: string[], env: Record<string, string> = {}) {
  console.log(`\n== ${label}: deno ${args.join(" ")}`);
  const child = new Deno.Command(Deno.execPath(), {
    args,
    env,
    stdout: "inherit",
    stderr: "inherit",
  }).spawn();
  return (await child.status).success;
}

if (!options.noChecks) {
  for (
    const [label, args] of [
      ["format", ["fmt", "--check"]],
      ["lint", ["lint"]],
      ["type check", ["check", "."]],
    ] as const
  ) {
    if (!await run(label, [...args])) {
      console.error(`\n${label} failed: fix the problems above first.`);
      console.log("0 passed, 1 failed");
      Deno.exit(1);
    }
  }
}

// What the tests need besides Deno, installed here when missing and possible: a missing
// tool is a failure that says how to get it, never a skipped test.
if (!await ensurePrerequisites("test", { say: (line) => console.log(`== ${line}`) })) {
  console.log("0 passed, 1 failed");
  Deno.exit(1);
}

let broker: Awaited<ReturnType<typeof startThrowawayBroker>> | undefined;
let brokers = Deno.env.get("KAFKA_BROKERS");
const stopBroker = async () => {
  const running = broker;
  broker = undefined;
  await running?.stop();
};
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  Deno.addSignalListener(signal, () => {
    stopBroker().finally(() => Deno.exit(130));
  });
}

let exitCode = 1;
try {
  if (brokers) {
    console.log(`\n== integration tests use the cluster in KAFKA_BROKERS: ${brokers}`);
  } else {
    const started = performance.now();
    broker = await startThrowawayBroker();
    brokers = broker.bootstrap;
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    console.log(`\n== integration tests use a real Kafka broker at ${brokers} (up in ${seconds}s)`);
  }
  const child = new Deno.Command(Deno.execPath(), {
    args: ["test", "-A", ...options.denoTest],
    env: { KAFKA_BROKERS: brokers, NO_COLOR: "1" },
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const summary = await summarizeDenoTest(child.stdout, (chunk) => Deno.stdout.writeSync(chunk));
  const status = await child.status;
  console.log(`${summary.passed} passed, ${summary.failed} failed`);
  exitCode = status.success && summary.failed === 0 && summary.passed > 0 ? 0 : 1;
} catch (error) {
  console.error(`Test run aborted: ${(error as Error).message}`);
  console.log("0 passed, 1 failed");
} finally {
  await stopBroker();
}
Deno.exit(exitCode);
