import assert from "node:assert/strict";
import { OptionsError, parseDuration, parseLoadOptions } from "./options.ts";

const parse = (args: string[], env = {}) => {
  const options = parseLoadOptions(args, env, () => 0.5);
  assert.notEqual(options, "help");
  return options as Exclude<typeof options, "help">;
};

function problemsOf(args: string[]): string[] {
  try {
    parseLoadOptions(args, {});
  } catch (error) {
    assert.ok(error instanceof OptionsError);
    return error.problems;
  }
  assert.fail(`expected ${args.join(" ")} to be rejected`);
}

Deno.test("parseDuration reads ms, s, m, h, combinations and bare seconds", () => {
  assert.equal(parseDuration("500ms"), 500);
  assert.equal(parseDuration("30s"), 30_000);
  assert.equal(parseDuration("10m"), 600_000);
  assert.equal(parseDuration("1h"), 3_600_000);
  assert.equal(parseDuration("1m30s"), 90_000);
  assert.equal(parseDuration("2"), 2000);
  assert.equal(parseDuration("ten minutes"), undefined);
  assert.equal(parseDuration("10x"), undefined);
  assert.equal(parseDuration("5m junk"), undefined);
});

Deno.test("defaults: localhost producer, 1000 payments, single requests, closed model", () => {
  const options = parse([]);
  assert.equal(options.url, "http://localhost:8000");
  assert.equal(options.count, 1000);
  assert.equal(options.durationMs, undefined);
  assert.equal(options.batchSize, 1);
  assert.equal(options.rate, undefined);
  assert.equal(options.concurrency, 8);
  assert.equal(options.verify, false);
  assert.deepEqual(options.brokers, ["localhost:9092"]);
  assert.equal(options.resultsTopic, "payment_results");
  assert.equal(options.progress, "auto");
});

Deno.test("a rate raises the default concurrency and a duration drops the default count", () => {
  const options = parse(["--rate", "500", "--duration", "10m"]);
  assert.equal(options.rate, 500);
  assert.equal(options.concurrency, 32);
  assert.equal(options.durationMs, 600_000);
  assert.equal(options.count, undefined);
});

Deno.test("every option is read, brokers and topic fall back to the environment", () => {
  const options = parse([
    "--url=http://p:8000/",
    "--count=20000",
    "--batch-size=50",
    "--invalid-ratio=0.05",
    "--duplicate-ratio=0.1",
    "--api-key=k1",
    "--seed=7",
    "--run-id=abc",
    "--json=out.json",
    "--verify",
    "--verify-timeout=2m",
    "--metrics-port=9464",
    "--timeout=2s",
    "--quiet",
  ], { KAFKA_BROKERS: "a:1,b:2", TOPIC_PAYMENT_RESULTS: "results-x" });
  assert.equal(options.url, "http://p:8000");
  assert.equal(options.count, 20000);
  assert.equal(options.batchSize, 50);
  assert.equal(options.invalidRatio, 0.05);
  assert.equal(options.duplicateRatio, 0.1);
  assert.equal(options.apiKey, "k1");
  assert.equal(options.seed, 7);
  assert.equal(options.runId, "abc");
  assert.equal(options.jsonFile, "out.json");
  assert.equal(options.verify, true);
  assert.equal(options.verifyTimeoutMs, 120_000);
  assert.equal(options.metricsPort, 9464);
  assert.equal(options.requestTimeoutMs, 2000);
  assert.equal(options.progress, "none");
  assert.deepEqual(options.brokers, ["a:1", "b:2"]);
  assert.equal(options.resultsTopic, "results-x");
});

Deno.test("the API key can come from LOADGEN_API_KEY", () => {
  assert.equal(parse([], { LOADGEN_API_KEY: "secret" }).apiKey, "secret");
});

Deno.test("--help and -h ask for help", () => {
  assert.equal(parseLoadOptions(["--help"]), "help");
  assert.equal(parseLoadOptions(["-h"]), "help");
});

Deno.test("bad options are all reported together, each by name", () => {
  const problems = problemsOf([
    "--rate=-5",
    "--batch-size=501",
    "--invalid-ratio=1.5",
    "--duration=soon",
    "--url=ftp://x",
    "--concurrency=0",
  ]);
  assert.equal(problems.length, 6);
  for (
    const name of [
      "--rate",
      "--batch-size",
      "--invalid-ratio",
      "--duration",
      "--url",
      "--concurrency",
    ]
  ) {
    assert.ok(problems.some((p) => p.startsWith(name)), `${name} in ${problems.join(" | ")}`);
  }
});

Deno.test("unknown options and positionals are refused with their name", () => {
  assert.match(problemsOf(["--rat", "5"])[0]!, /--rat/);
  assert.ok(problemsOf(["extra"]).length === 1);
});

Deno.test("--brokers without --verify is refused", () => {
  assert.match(problemsOf(["--brokers", "x:1"])[0]!, /only used with --verify/);
});

Deno.test("non-integer counts and bad broker lists are refused", () => {
  assert.match(problemsOf(["--count", "1.5"])[0]!, /--count/);
  assert.match(problemsOf(["--verify", "--brokers", "nohost"])[0]!, /--brokers/);
});

Deno.test("run ids are random by default and validated when given", () => {
  const a = parseLoadOptions([], {}, Math.random);
  const b = parseLoadOptions([], {}, Math.random);
  assert.ok(a !== "help" && b !== "help");
  assert.notEqual(a.runId, b.runId);
  assert.match(problemsOf(["--run-id", "bad id"])[0]!, /--run-id/);
});

Deno.test("--watch-rss takes a list of metrics URLs and a sampling period", () => {
  const options = parse([
    "--watch-rss",
    "http://localhost:8000/metrics, http://localhost:8001/metrics",
    "--watch-every",
    "5s",
  ]);
  assert.deepEqual(options.watchRss, [
    "http://localhost:8000/metrics",
    "http://localhost:8001/metrics",
  ]);
  assert.equal(options.watchEveryMs, 5000);
  assert.deepEqual(parse([]).watchRss, []);
  assert.match(problemsOf(["--watch-rss", "localhost:8000"])[0]!, /--watch-rss/);
});
