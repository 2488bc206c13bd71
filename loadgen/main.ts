// deno-lint-ignore-file no-console
/**
 * `deno task load`: the load generator's command line. See `--help`.
 *
 * @module
 */
import { muteKafkajsTimeoutWarning } from "@payments/shared/kafkajs_quiet";
import { registerKafkaCodecs } from "@payments/shared/kafka_codecs";
import { TargetError } from "./client.ts";
import { createLoadMetrics, type LoadMetrics, noMetrics, serveMetrics } from "./metrics.ts";
import { HELP, type LoadOptions, OptionsError, parseLoadOptions } from "./options.ts";
import { createProgress } from "./progress.ts";
import { formatReport } from "./report.ts";
import { startRssSampler } from "./rss_sampler.ts";
import { runLoad } from "./run.ts";
import { VerifyError } from "./verify.ts";

/** Exit codes (also listed in `--help`). */
export const EXIT = { ok: 0, verifyFailed: 1, usage: 2, target: 3, interrupted: 130 } as const;

async function main(args: string[]): Promise<number> {
  let options: LoadOptions | "help";
  try {
    options = parseLoadOptions(args, Deno.env.toObject());
  } catch (error) {
    if (!(error instanceof OptionsError)) throw error;
    console.error(`${error.message}\nRun \`deno task load --help\` for the options.`);
    return EXIT.usage;
  }
  if (options === "help") {
    console.log(HELP);
    return EXIT.ok;
  }
  muteKafkajsTimeoutWarning();
  // --verify reads the consumer's results, written with KAFKA_COMPRESSION's codec.
  registerKafkaCodecs();

  let metrics: LoadMetrics = noMetrics;
  let server: Deno.HttpServer | undefined;
  if (options.metricsPort !== undefined) {
    const created = createLoadMetrics(options.rate);
    metrics = created.metrics;
    try {
      server = serveMetrics(created.registry, options.metricsPort);
    } catch (error) {
      console.error(
        `Cannot serve metrics on port ${options.metricsPort}: ${(error as Error).message}`,
      );
      return EXIT.usage;
    }
  }

  const abort = new AbortController();
  const onSignal = () => {
    if (abort.signal.aborted) Deno.exit(EXIT.interrupted);
    console.error("\nInterrupted: finishing requests in flight; Ctrl-C again to quit at once.");
    abort.abort();
  };
  Deno.addSignalListener("SIGINT", onSignal);
  const sampler = options.watchRss.length > 0
    ? startRssSampler(options.watchRss, options.watchEveryMs)
    : undefined;
  try {
    const report = await runLoad(options, {
      metrics,
      signal: abort.signal,
      progress: createProgress(options.progress),
    });
    if (sampler) report.memory = await sampler.stop();
    console.log(formatReport(report));
    if (options.jsonFile) {
      await Deno.writeTextFile(options.jsonFile, JSON.stringify(report, null, 2) + "\n");
    }
    if (report.run.interrupted) return EXIT.interrupted;
    if (report.verify && !report.verify.ok) return EXIT.verifyFailed;
    if (report.payments.accepted === 0 && report.payments.sent > 0) {
      console.error("No payment was accepted: see the status counts above.");
    }
    return EXIT.ok;
  } catch (error) {
    if (error instanceof TargetError || error instanceof VerifyError) {
      console.error(error.message);
      return EXIT.target;
    }
    throw error;
  } finally {
    await sampler?.stop();
    Deno.removeSignalListener("SIGINT", onSignal);
    await server?.shutdown();
  }
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
