/**
 * Command-line options of `deno task load`: parsed with `node:util` `parseArgs`,
 * validated into one fully-resolved {@linkcode LoadOptions}, or one
 * {@linkcode OptionsError} that names every bad option.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { MAX_BATCH_SIZE } from "@payments/shared/payment";
import { parseBrokers } from "@payments/shared/config";

/** Everything a load run needs, resolved and validated. */
export interface LoadOptions {
  /** Producer base URL, without a trailing slash. */
  url: string;
  /** Offered payments per second (open model); undefined = as fast as `concurrency` allows. */
  rate?: number;
  /** Most requests in flight at once. */
  concurrency: number;
  /** Stop after this many milliseconds (undefined when only `count` bounds the run). */
  durationMs?: number;
  /** Stop after this many payments (undefined when only `durationMs` bounds the run). */
  count?: number;
  /** Payments per request: 1 uses `POST /payments`, more use `POST /payments/batch`. */
  batchSize: number;
  /** Fraction of requests that carry one invalid payment (the whole request gets a 4xx). */
  invalidRatio: number;
  /** Fraction of payments that resend an already accepted payment id. */
  duplicateRatio: number;
  /** Bearer token sent in `Authorization` when given. */
  apiKey?: string;
  /** Seed of the data generator: same seed, same payments (ids aside). */
  seed: number;
  /** Prefix of this run's payment ids; random unless given. */
  runId: string;
  /** Write the report as JSON to this file. */
  jsonFile?: string;
  /** Read `payment_results` after the run and check every accepted payment. */
  verify: boolean;
  /** Brokers the verifier reads from. */
  brokers: string[];
  /** Topic the consumer writes results to. */
  resultsTopic: string;
  /** How long the verifier waits for missing results after the last send. */
  verifyTimeoutMs: number;
  /**
   * Send a shed request (503 overloaded) again, same payments, after its Retry-After,
   * keeping its place in `concurrency` meanwhile: a client that backs off as told.
   */
  retryShed: boolean;
  /** Serve the generator's own metrics on this port. */
  metricsPort?: number;
  /** Per-request HTTP timeout. */
  requestTimeoutMs: number;
  /** Progress output: a bar on a TTY, periodic lines otherwise, or none. */
  progress: "auto" | "plain" | "none";
  /** Print nothing but the final report. */
  quiet: boolean;
  /** `/metrics` URLs whose `process_resident_memory_bytes` is sampled during the run. */
  watchRss: string[];
  /** Milliseconds between RSS samples. */
  watchEveryMs: number;
}

/** Bad command-line options; the message names each one. Never retriable. */
export class OptionsError extends Error {
  override name = "OptionsError";
  readonly retriable = false;
  constructor(readonly problems: string[]) {
    super(`Invalid options: ${problems.join("; ")}`);
  }
}

/** `--help` text. */
export const HELP = `Usage: deno task load [options]

Sends realistic payments to the producer API, shows live progress, prints a
report (offered vs achieved rate, HTTP statuses, latency percentiles) and, with
--verify, proves that every accepted payment got exactly one committed result.
Requests the producer sheds under overload (503 of type overloaded: refused at
once, nothing written) are counted as "shed", apart from errors, with their own
latency line next to the latency of accepted requests.

Target
  --url URL               producer base URL (default http://localhost:8000)
  --api-key KEY           sent as "Authorization: Bearer KEY" (env LOADGEN_API_KEY)
  --timeout DURATION      per-request HTTP timeout (default 10s)

Load shape
  --rate N                offered payments/s, open model: requests start on schedule
                          whether or not earlier ones have answered; the report says
                          when the offered rate could not be kept (default: none,
                          closed model, as fast as --concurrency allows)
  --concurrency N         most requests in flight at once (default 32 with --rate, 8
                          without); with --rate, a request that finds no free place
                          waits and counts as late
  --duration DURATION     run this long, e.g. 30s, 10m, 1h, 500ms
  --count N               send this many payments (default 1000 when no --duration)
                          (with both, the run stops at whichever comes first)
  --batch-size N          payments per request, 1..${MAX_BATCH_SIZE}; 1 uses POST /payments,
                          more use POST /payments/batch (default 1)
  --invalid-ratio R       fraction of requests (0..1) carrying one invalid payment, so
                          the whole request is rejected with a 4xx (default 0)
  --duplicate-ratio R     fraction of payments (0..1) that resend an already accepted
                          payment id, which must come back DUPLICATE (default 0)
  --retry-shed            send a shed request (503 overloaded) again, same payments,
                          after the Retry-After it carried (plus up to as much again
                          at random, so shed clients do not return as one herd),
                          keeping its place in --concurrency meanwhile, as a client
                          that backs off as told would; resends count as sent, not
                          towards --count (default: a shed request is not resent, its
                          place goes to a new request at once)

Data
  --seed N                seed of the data generator for reproducible payments
                          (default: random, printed in the report)
  --run-id ID             prefix of this run's payment ids (default: random, so ids are
                          unique per run)

Verification
  --verify                after sending, read the results topic (read_committed) until
                          every accepted payment has its result or --verify-timeout
                          passes; exit 1 on any missing result, double approval or
                          result of a shed payment
  --brokers LIST          comma-separated brokers (default env KAFKA_BROKERS or
                          localhost:9092)
  --results-topic NAME    results topic (default env TOPIC_PAYMENT_RESULTS or
                          payment_results)
  --verify-timeout DUR    how long to wait for results after the last send (default 60s)

Output
  --json FILE             also write the report as JSON to FILE
  --metrics-port PORT     serve the generator's own Prometheus metrics on PORT
  --watch-rss URLS        comma-separated /metrics URLs of the services; their RSS
                          (process_resident_memory_bytes) is sampled during the run
                          and reported with its growth (for soak runs)
  --watch-every DURATION  RSS sampling period (default 10s)
  --progress MODE         auto (bar on a TTY, lines otherwise), plain, none (default auto)
  --quiet                 no progress, only the final report
  -h, --help              show this help

Exit codes: 0 done; 1 verification failed (missing result, double approval, or a
shed payment that was written);
2 bad options; 3 producer unreachable or API key rejected; 130 interrupted.
Ctrl-C stops sending and prints the report so far (a second Ctrl-C exits at once).

Examples
  deno task load --count 20000 --batch-size 50 --verify
  deno task load --rate 1000 --duration 1m --concurrency 64
  deno task load --duration 10m --rate 200 --verify --metrics-port 9464 \\
    --watch-rss http://localhost:8000/metrics,http://localhost:8001/metrics`;

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * Milliseconds in a duration such as `500ms`, `30s`, `10m`, `1h` or `1m30s`; a bare
 * number means seconds. Returns undefined when it cannot be read.
 */
export function parseDuration(text: string): number | undefined {
  const trimmed = text.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed) * 1000;
  const parts = [...trimmed.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join("") !== trimmed) return undefined;
  return parts.reduce((sum, [, n, unit]) => sum + Number(n) * UNITS[unit!]!, 0);
}

type Env = Readonly<Record<string, string | undefined>>;

/**
 * Parses and validates the arguments. Returns `"help"` for `--help`.
 *
 * @example
 * ```ts
 * const options = parseLoadOptions(["--count", "100", "--batch-size", "10"], {});
 * if (options !== "help") options.batchSize; // 10
 * ```
 */
export function parseLoadOptions(
  args: string[],
  env: Env = {},
  random: () => number = Math.random,
): LoadOptions | "help" {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        url: { type: "string" },
        "api-key": { type: "string" },
        timeout: { type: "string" },
        rate: { type: "string" },
        concurrency: { type: "string" },
        duration: { type: "string" },
        count: { type: "string" },
        "batch-size": { type: "string" },
        "invalid-ratio": { type: "string" },
        "duplicate-ratio": { type: "string" },
        "retry-shed": { type: "boolean" },
        seed: { type: "string" },
        "run-id": { type: "string" },
        verify: { type: "boolean" },
        brokers: { type: "string" },
        "results-topic": { type: "string" },
        "verify-timeout": { type: "string" },
        json: { type: "string" },
        "metrics-port": { type: "string" },
        progress: { type: "string" },
        quiet: { type: "boolean" },
        "watch-rss": { type: "string" },
        "watch-every": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (error) {
    // parseArgs' messages name the option ("Unknown option '--rat'").
    throw new OptionsError([(error as Error).message.split(". ")[0]!]);
  }
  if (values.help) return "help";

  const problems: string[] = [];
  const str = (name: string) => values[name] as string | undefined;
  const number = (name: string, check: (n: number) => boolean, what: string) => {
    const raw = str(name);
    if (raw === undefined) return undefined;
    const n = Number(raw);
    if (raw.trim() === "" || !Number.isFinite(n) || !check(n)) {
      problems.push(`--${name} must be ${what} (got "${raw}")`);
      return undefined;
    }
    return n;
  };
  const duration = (name: string) => {
    const raw = str(name);
    if (raw === undefined) return undefined;
    const ms = parseDuration(raw);
    if (ms === undefined || ms <= 0) {
      problems.push(
        `--${name} must be a positive duration such as 30s, 10m or 500ms (got "${raw}")`,
      );
    }
    return ms;
  };
  const positiveInt = (n: number) => Number.isInteger(n) && n > 0;
  const ratio = (n: number) => n >= 0 && n <= 1;

  const url = (str("url") ?? "http://localhost:8000").replace(/\/+$/, "");
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== "http:" && parsed.protocol !== "https:") throw new Error();
  } catch {
    problems.push(`--url must be an http(s) URL such as http://localhost:8000 (got "${url}")`);
  }
  const rate = number("rate", (n) => n > 0, "a positive number of payments per second");
  const concurrency = number("concurrency", positiveInt, "a positive integer") ??
    (rate === undefined ? 8 : 32);
  const durationMs = duration("duration");
  let count = number("count", positiveInt, "a positive integer");
  if (count === undefined && durationMs === undefined && str("duration") === undefined) {
    count = 1000;
  }
  const batchSize = number(
    "batch-size",
    (n) => Number.isInteger(n) && n >= 1 && n <= MAX_BATCH_SIZE,
    `an integer from 1 to ${MAX_BATCH_SIZE}`,
  ) ?? 1;
  const invalidRatio = number("invalid-ratio", ratio, "a number from 0 to 1") ?? 0;
  const duplicateRatio = number("duplicate-ratio", ratio, "a number from 0 to 1") ?? 0;
  const seed = number("seed", (n) => Number.isInteger(n) && n >= 0, "a non-negative integer") ??
    Math.floor(random() * 2 ** 31);
  const runId = str("run-id") ?? Math.floor(random() * 36 ** 6).toString(36).padStart(6, "0");
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$/.test(runId)) {
    problems.push(`--run-id must be 1-32 letters, digits, '.', '_' or '-' (got "${runId}")`);
  }
  const requestTimeoutMs = duration("timeout") ?? 10_000;
  const verifyTimeoutMs = duration("verify-timeout") ?? 60_000;
  const metricsPort = number(
    "metrics-port",
    (n) => Number.isInteger(n) && n >= 1 && n <= 65535,
    "a port from 1 to 65535",
  );
  const progress = str("progress") ?? "auto";
  if (progress !== "auto" && progress !== "plain" && progress !== "none") {
    problems.push(`--progress must be auto, plain or none (got "${progress}")`);
  }
  const brokers = parseBrokers(str("brokers") ?? env.KAFKA_BROKERS ?? "localhost:9092") ?? [];
  if (brokers.length === 0) {
    problems.push(`--brokers must be a comma-separated list of host:port`);
  }
  if (str("brokers") !== undefined && !values.verify) {
    problems.push("--brokers is only used with --verify");
  }
  const watchRss = (str("watch-rss") ?? "").split(",").map((u) => u.trim()).filter(Boolean);
  for (const u of watchRss) {
    if (!/^https?:\/\/[^\s]+$/.test(u)) {
      problems.push(`--watch-rss takes http(s) URLs (got "${u}")`);
    }
  }
  const watchEveryMs = duration("watch-every") ?? 10_000;
  const apiKey = str("api-key") ?? env.LOADGEN_API_KEY;
  if (apiKey !== undefined && apiKey.trim() === "") problems.push("--api-key must not be empty");
  if (problems.length > 0) throw new OptionsError(problems);

  return {
    url,
    ...(rate !== undefined ? { rate } : {}),
    concurrency,
    ...(durationMs !== undefined ? { durationMs } : {}),
    ...(count !== undefined ? { count } : {}),
    batchSize,
    invalidRatio,
    duplicateRatio,
    ...(apiKey !== undefined ? { apiKey } : {}),
    seed,
    runId,
    ...(str("json") !== undefined ? { jsonFile: str("json")! } : {}),
    verify: values.verify === true,
    retryShed: values["retry-shed"] === true,
    brokers,
    resultsTopic: str("results-topic") ?? env.TOPIC_PAYMENT_RESULTS ?? "payment_results",
    verifyTimeoutMs,
    ...(metricsPort !== undefined ? { metricsPort } : {}),
    requestTimeoutMs,
    progress: values.quiet ? "none" : progress as LoadOptions["progress"],
    quiet: values.quiet === true,
    watchRss,
    watchEveryMs,
  };
}
