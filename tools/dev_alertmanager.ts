/**
 * The Alertmanager `deno task dev` starts beside Prometheus when it is installed: the
 * project's routing (`prometheus/alertmanager.yml`: routes, matchers, grouping,
 * inhibitions), with every receiver's webhooks pointed at dev's own receiver, which
 * prints each alert into the dev output. Data in a git-ignored folder, clustering off.
 *
 * @module
 */
import { join } from "node:path";
import { parse, stringify } from "yaml";
import { CHILD_OPTIONS } from "./dev_processes.ts";

/** How to get the binary, for the one line dev prints without it. */
export const ALERTMANAGER_INSTALL = "apt-get install prometheus-alertmanager";

/** The binary's names: Debian's, then upstream's. */
const COMMANDS = ["prometheus-alertmanager", "alertmanager"];

/** An alertmanager.yml, as far as dev reads it. */
interface AlertmanagerConfig {
  receivers?: { name: string; [key: string]: unknown }[];
  [key: string]: unknown;
}

/**
 * The dev config: the project's, with each receiver sending to `urlOf(receiver)` (a
 * webhook with resolved notifications) instead of the placeholder pager and tickets.
 */
export function devAlertmanagerConfig(
  projectConfig: string,
  urlOf: (receiver: string) => string,
): string {
  const config = parse(projectConfig) as AlertmanagerConfig;
  if (!config.receivers?.length) {
    throw new Error("prometheus/alertmanager.yml has no receivers");
  }
  const receivers = config.receivers.map(({ name }) => ({
    name,
    webhook_configs: [{ url: urlOf(name), send_resolved: true }],
  }));
  return stringify({ ...config, receivers });
}

/** The command line of the dev Alertmanager. */
export function alertmanagerArgs(configFile: string, dataDir: string, port: number): string[] {
  return [
    `--config.file=${configFile}`,
    `--storage.path=${join(dataDir, "data")}`,
    `--web.listen-address=127.0.0.1:${port}`,
    // No gossip: it would take port 9094 and look for peers.
    "--cluster.listen-address=",
    "--log.level=warn",
  ];
}

/** Options of {@linkcode startDevAlertmanager}. */
export interface DevAlertmanagerOptions {
  /** The repository root (holds prometheus/). */
  root: string;
  /** Config and data folder. */
  dataDir: string;
  port: number;
  /** Where each of the project's receivers is sent. */
  urlOf: (receiver: string) => string;
}

/** A command for the dev Alertmanager, or the one sentence why there is none. */
export type DevAlertmanager =
  | { found: true; command: Deno.Command; url: string; configFile: string }
  | { found: false; reason: string };

/**
 * Writes the dev config into `dataDir` and finds the binary. A missing binary is not an
 * error: dev goes on without alerts and says how to get them.
 */
export async function devAlertmanager(options: DevAlertmanagerOptions): Promise<DevAlertmanager> {
  const command = await findCommand(COMMANDS);
  if (!command) {
    return {
      found: false,
      reason: `Alertmanager not started: prometheus-alertmanager is not on the PATH ` +
        `(${ALERTMANAGER_INSTALL}); alerts are evaluated but not shown`,
    };
  }
  const config = devAlertmanagerConfig(
    await Deno.readTextFile(join(options.root, "prometheus", "alertmanager.yml")),
    options.urlOf,
  );
  await Deno.mkdir(options.dataDir, { recursive: true });
  const configFile = join(options.dataDir, "alertmanager.yml");
  await Deno.writeTextFile(configFile, config);
  return {
    found: true,
    command: new Deno.Command(command, {
      args: alertmanagerArgs(configFile, options.dataDir, options.port),
      // One OS thread is plenty for dev, on a machine the broker and services share.
      env: { GOMAXPROCS: "1" },
      ...CHILD_OPTIONS,
    }),
    url: `http://localhost:${options.port}`,
    configFile,
  };
}

/** The first of `names` on the PATH. */
async function findCommand(names: string[]): Promise<string | undefined> {
  for (const name of names) {
    try {
      const { success } = await new Deno.Command(name, {
        args: ["--version"],
        stdout: "null",
        stderr: "null",
      }).output();
      if (success) return name;
    } catch { /* not this one */ }
  }
  return undefined;
}
