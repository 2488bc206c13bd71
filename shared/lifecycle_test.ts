import assert from "node:assert/strict";
import { ConfigError } from "./env.ts";
import {
  abortableSleep,
  EXIT_INVALID_CONFIGURATION,
  listenForShutdown,
  retryWithBackoff,
  serviceLifecycle,
  startService,
  withShutdownDeadline,
} from "./lifecycle.ts";

/** Runs `body` with console.log and console.error captured. */
async function captured<T>(body: () => Promise<T>) {
  const out: string[] = [];
  const err: string[] = [];
  const { log, error } = console;
  // deno-lint-ignore no-console
  console.log = (line: string) => out.push(line);
  // deno-lint-ignore no-console
  console.error = (line: string) => err.push(line);
  try {
    return { result: await body(), out, err };
  } finally {
    Object.assign(console, { log, error });
  }
}

Deno.test("--help prints the help and exits 0 without loading the configuration", async () => {
  let loaded = 0;
  const { result, out, err } = await captured(() =>
    startService(["--help"], "Usage: service", () => ++loaded)
  );
  assert.deepEqual(result, { exitCode: 0 });
  assert.deepEqual(out, ["Usage: service"]);
  assert.deepEqual([err, loaded], [[], 0]);
});

Deno.test("invalid configuration is one sentence on stderr and exit 2; anything else is thrown", async () => {
  const { result, out, err } = await captured(() =>
    startService([], "help", () => {
      throw new ConfigError(["PRODUCER_PORT: too big", "KAFKA_BROKERS: no port"]);
    })
  );
  assert.deepEqual(result, { exitCode: EXIT_INVALID_CONFIGURATION });
  assert.equal(EXIT_INVALID_CONFIGURATION, 2);
  assert.deepEqual(out, []);
  assert.deepEqual(err, [
    "Invalid configuration: PRODUCER_PORT: too big; KAFKA_BROKERS: no port",
  ]);
  await assert.rejects(
    startService([], "help", () => Promise.reject(new TypeError("bug"))),
    TypeError,
  );
  assert.deepEqual(await startService([], "help", () => Promise.resolve({ port: 1 })), {
    config: { port: 1 },
  });
});

/** A clock that records each wait and lets the test end it. */
function recordingSleep() {
  const waits: number[] = [];
  return { waits, sleep: (ms: number) => (waits.push(ms), Promise.resolve()) };
}

Deno.test("a try that keeps failing is retried after 1, 2, 4 ... seconds, at most the cap", async () => {
  const { waits, sleep } = recordingSleep();
  const retried: string[] = [];
  let tries = 0;
  const outcome = await retryWithBackoff({
    attempt: () => ++tries < 7 ? Promise.reject(new Error(`down ${tries}`)) : Promise.resolve(42),
    signal: new AbortController().signal,
    maxBackoffMs: 10_000,
    onRetry: (error, delay) => retried.push(`${(error as Error).message} ${delay}`),
    sleep,
  });
  assert.deepEqual(outcome, { state: "done", value: 42 });
  assert.deepEqual(waits, [1000, 2000, 4000, 8000, 10_000, 10_000]);
  assert.deepEqual(retried[0], "down 1 1000");
  assert.equal(retried.length, 6);
});

Deno.test("a failure that cannot pass is refused at once, after its clean-up", async () => {
  const { waits, sleep } = recordingSleep();
  const steps: string[] = [];
  const outcome = await retryWithBackoff({
    attempt: () => Promise.reject(new RangeError("wrong topic")),
    signal: new AbortController().signal,
    maxBackoffMs: 10_000,
    cleanUp: () => (steps.push("clean-up"), Promise.resolve()),
    isFinal: (error) => error instanceof RangeError,
    onRetry: () => steps.push("retry"),
    sleep,
  });
  assert.equal(outcome.state, "refused");
  assert.ok(outcome.state === "refused" && outcome.error instanceof RangeError);
  assert.deepEqual(steps, ["clean-up"]);
  assert.deepEqual(waits, []);
});

Deno.test("an abort ends the wait between tries at once, and a try that succeeds after it counts as stopped", async () => {
  const stop = new AbortController();
  let tries = 0;
  const waiting = retryWithBackoff({
    attempt: () => {
      tries++;
      return Promise.reject(new Error("down"));
    },
    signal: stop.signal,
    maxBackoffMs: 3_600_000,
    initialBackoffMs: 3_600_000,
    onRetry: () => stop.abort(),
  });
  assert.deepEqual(await waiting, { state: "stopped" });
  assert.equal(tries, 1);

  const late = new AbortController();
  const outcome = await retryWithBackoff({
    attempt: () => (late.abort(), Promise.resolve("connected")),
    signal: late.signal,
    maxBackoffMs: 1000,
    onRetry: () => {},
  });
  assert.deepEqual(outcome, { state: "stopped" });
});

Deno.test("an aborted sleep resolves at once and leaves no timer", async () => {
  const stop = new AbortController();
  const sleeping = abortableSleep(3_600_000, stop.signal);
  stop.abort();
  await sleeping;
  await abortableSleep(3_600_000, stop.signal);
  await abortableSleep(1, new AbortController().signal);
  assert.ok(stop.signal.aborted);
});

Deno.test("a shutdown that outlasts its budget is told so; one within it is not", async () => {
  let exceeded = 0;
  const { promise: told, resolve } = Promise.withResolvers<void>();
  // The slow shutdown ends only once the deadline has fired.
  const result = await withShutdownDeadline(
    { ms: 1, onExceeded: () => (exceeded++, resolve()) },
    async () => (await told, "late"),
  );
  assert.equal(result, "late");
  assert.equal(exceeded, 1);
  await withShutdownDeadline(
    { ms: 3_600_000, onExceeded: () => exceeded++ },
    () => Promise.resolve(),
  );
  assert.equal(exceeded, 1);
});

Deno.test("SIGTERM is received as a shutdown request instead of ending the process", async () => {
  using shutdown = listenForShutdown();
  assert.equal(shutdown.signal.aborted, false);
  // Signal listeners do not keep the event loop alive (a service's HTTP server does).
  const alive = setInterval(() => {}, 1000);
  try {
    Deno.kill(Deno.pid, "SIGTERM");
    assert.equal(await shutdown.received, "SIGTERM");
  } finally {
    clearInterval(alive);
  }
  assert.equal(shutdown.signal.aborted, true);
});

/** A logger that keeps its lines (`level message`), with the properties filled in. */
function recordingLogger() {
  const lines: string[] = [];
  const log = (level: string) => (message: string, properties: Record<string, unknown> = {}) =>
    lines.push(`${level} ${message.replace(/\{(\w+)\}/g, (_, key) => String(properties[key]))}`);
  return { lines, logger: { info: log("info"), error: log("error") } as never };
}

const lifecycleOptions = (logger: never) => ({
  logger,
  shutdownTimeoutMs: 5000,
  stopping: "finishing in-flight work",
  stopped: "Service stopped",
});

// SIGINT is left out: `deno test` takes it for itself (it reports the pending tests and
// exits); the dev tests send it to the services.
for (const signal of ["SIGHUP", "SIGTERM"] as const) {
  Deno.test(`${signal} stops a service cleanly: steps in reverse order of start, exit 0`, async () => {
    const { lines, logger } = recordingLogger();
    const order: string[] = [];
    await using life = serviceLifecycle(lifecycleOptions(logger));
    life.defer(() => order.push("publisher"));
    life.defer(async () => {
      await new Promise((resolve) => setTimeout(resolve, 10));
      order.push("server");
    });
    const alive = setInterval(() => {}, 1000);
    try {
      setTimeout(() => Deno.kill(Deno.pid, signal), 10);
      assert.equal(await life.untilStopped(), 0);
    } finally {
      clearInterval(alive);
    }
    assert.equal(life.signal.aborted, true);
    assert.deepEqual(order, ["server", "publisher"]);
    assert.deepEqual(lines, [
      `info Received ${signal}: finishing in-flight work`,
      "info Service stopped",
    ]);
  });
}

Deno.test("a start that ends the service gives its exit code, after stopping what was started", async () => {
  const { lines, logger } = recordingLogger();
  const order: string[] = [];
  await using life = serviceLifecycle(lifecycleOptions(logger));
  life.defer(() => order.push("server"));
  assert.equal(await life.untilStopped(Promise.resolve(1)), 1);
  assert.deepEqual(order, ["server"]);
  assert.deepEqual(lines, [], "no signal was received, and the service did not stop cleanly");
});

Deno.test("a step that throws is logged, the others still run, and the exit code is 1", async () => {
  const { lines, logger } = recordingLogger();
  const order: string[] = [];
  await using life = serviceLifecycle(lifecycleOptions(logger));
  life.defer(() => order.push("first started"));
  life.defer(() => {
    throw new Error("disconnect failed");
  });
  life.defer(() => order.push("last started"));
  assert.equal(await life.untilStopped(Promise.resolve(0)), 1);
  assert.deepEqual(order, ["last started", "first started"]);
  assert.deepEqual(lines, ["error Shutdown step failed: Error: disconnect failed"]);
});

Deno.test("a shutdown past its budget is logged and exits 1", async () => {
  const { lines, logger } = recordingLogger();
  const exits: number[] = [];
  await using life = serviceLifecycle({
    ...lifecycleOptions(logger),
    shutdownTimeoutMs: 20,
    exit: (code) => exits.push(code),
  });
  life.defer(() => new Promise((resolve) => setTimeout(resolve, 80)));
  await life.untilStopped(Promise.resolve(0));
  assert.deepEqual(exits, [1]);
  assert.ok(lines.includes("error Shutdown exceeded 20 ms; exiting now"), lines.join("\n"));
});

Deno.test("disposing a lifecycle that never waited stops what was started, once", async () => {
  const { logger } = recordingLogger();
  const order: string[] = [];
  {
    await using life = serviceLifecycle(lifecycleOptions(logger));
    life.defer(() => order.push("publisher"));
    life.defer(() => order.push("lag monitor"));
  }
  assert.deepEqual(order, ["lag monitor", "publisher"]);
});
