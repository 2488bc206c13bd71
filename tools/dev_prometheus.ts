/**
 * The Prometheus `deno task dev` starts when `prometheus` is on the PATH: a config
 * generated from `prometheus/prometheus.yml` (the project's, not a copy kept by hand)
 * with its scrape jobs pointed at the dev services, every rule file under
 * `prometheus/` loaded, exemplar storage on, its alerts sent to the dev Alertmanager
 * when there is one, data in a git-ignored folder.
 *
 * @module
 */
import { join } from "node:path";
import { parse, stringify } from "yaml";
import { CHILD_OPTIONS } from "./dev_processes.ts";

/** How to get the binary, for the one line dev prints without it. */
export const PROMETHEUS_INSTALL = "apt-get install prometheus";

/** A prometheus.yml, as far as dev reads it. */
interface PrometheusConfig {
  global?: Record<string, unknown>;
  rule_files?: string[];
  alerting?: unknown;
  scrape_configs?: { job_name: string; static_configs?: unknown; [key: string]: unknown }[];
  [key: string]: unknown;
}

/** Where dev's services and Prometheus listen. */
export interface DevTargets {
  producerPort: number;
  consumerPort: number;
  prometheusPort: number;
  /** The dev Alertmanager's port; without one, alerts are evaluated and not sent. */
  alertmanagerPort?: number;
}

/**
 * Every YAML file under `dir` (recursively) that is a Prometheus rule file: a mapping
 * with a `groups` list. Found by what the file holds, not by a list of names, so rule
 * files added later are loaded too; promtool test files and configs are not rule files.
 */
export async function findRuleFiles(dir: string): Promise<string[]> {
  const found: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) {
      found.push(...await findRuleFiles(path));
      continue;
    }
    if (!entry.isFile || !/\.ya?ml$/.test(entry.name)) continue;
    let doc: unknown;
    try {
      doc = parse(await Deno.readTextFile(path));
    } catch {
      continue; // Not YAML Prometheus could load either; promtool's tests report it.
    }
    const groups = (doc as { groups?: unknown } | null)?.groups;
    if (Array.isArray(groups)) found.push(path);
  }
  return found.sort();
}

/**
 * The dev config: the project's prometheus.yml with the service jobs scraping the dev
 * ports on localhost, Prometheus scraping itself, and alerts sent to the dev
 * Alertmanager when `alertmanagerPort` is given (else no `alerting` section). Jobs for
 * hosts dev does not run are left out.
 */
export function devPrometheusConfig(
  projectConfig: string,
  ruleFiles: string[],
  targets: DevTargets,
): string {
  const config = parse(projectConfig) as PrometheusConfig;
  const ports: Record<string, number> = {
    "payment-producer": targets.producerPort,
    "payment-consumer": targets.consumerPort,
    prometheus: targets.prometheusPort,
  };
  const { alerting: _none, ...rest } = config;
  const scrapeConfigs = (config.scrape_configs ?? [])
    .filter((job) => ports[job.job_name] !== undefined)
    .map((job) => ({
      ...job,
      static_configs: [{ targets: [`localhost:${ports[job.job_name]}`] }],
    }));
  const missing = ["payment-producer", "payment-consumer"].filter((job) =>
    !scrapeConfigs.some((c) => c.job_name === job)
  );
  if (missing.length > 0) {
    throw new Error(`prometheus/prometheus.yml has no scrape job ${missing.join(", ")}`);
  }
  const alerting = targets.alertmanagerPort === undefined ? {} : {
    alerting: {
      alertmanagers: [{ static_configs: [{ targets: [`localhost:${targets.alertmanagerPort}`] }] }],
    },
  };
  return stringify({ ...rest, rule_files: ruleFiles, ...alerting, scrape_configs: scrapeConfigs });
}

/** The command line of the dev Prometheus. */
export function prometheusArgs(configFile: string, dataDir: string, port: number): string[] {
  return [
    `--config.file=${configFile}`,
    `--storage.tsdb.path=${join(dataDir, "data")}`,
    `--web.listen-address=127.0.0.1:${port}`,
    // The latency histograms carry exemplars (trace_id, correlation_id).
    "--enable-feature=exemplar-storage",
    "--log.level=warn",
  ];
}

/** Options of {@linkcode devPrometheus}. */
export interface DevPrometheusOptions extends DevTargets {
  /** The repository root (holds prometheus/). */
  root: string;
  /** Config and TSDB folder. */
  dataDir: string;
}

/** The command of the dev Prometheus, or the one sentence why there is none. */
export type DevPrometheus =
  | { found: true; command: Deno.Command; url: string; configFile: string }
  | { found: false; reason: string };

/**
 * Writes the dev config into `dataDir` and finds the binary. A missing binary is not an
 * error: dev goes on without it and says how to get it.
 */
export async function devPrometheus(options: DevPrometheusOptions): Promise<DevPrometheus> {
  const projectDir = join(options.root, "prometheus");
  const config = devPrometheusConfig(
    await Deno.readTextFile(join(projectDir, "prometheus.yml")),
    await findRuleFiles(projectDir),
    options,
  );
  await Deno.mkdir(options.dataDir, { recursive: true });
  const configFile = join(options.dataDir, "prometheus.yml");
  await Deno.writeTextFile(configFile, config);
  try {
    await new Deno.Command("prometheus", { args: ["--version"], stdout: "null", stderr: "null" })
      .output();
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
    return {
      found: false,
      reason: `Prometheus not started: prometheus is not on the PATH (${PROMETHEUS_INSTALL})`,
    };
  }
  return {
    found: true,
    command: new Deno.Command("prometheus", {
      args: prometheusArgs(configFile, options.dataDir, options.prometheusPort),
      ...CHILD_OPTIONS,
    }),
    url: `http://localhost:${options.prometheusPort}`,
    configFile,
  };
}
