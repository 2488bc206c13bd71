/**
 * What `deno task compile` runs, and how it explains a failure: kept apart from
 * the CLI so both can be tested without compiling anything.
 *
 * @module
 */

/** Platforms users run the services on. */
export const TARGETS = [
  "x86_64-unknown-linux-gnu",
  "aarch64-unknown-linux-gnu",
  "x86_64-apple-darwin",
  "aarch64-apple-darwin",
  "x86_64-pc-windows-msvc",
] as const;

/** The services that become executables. */
export const SERVICES = ["producer", "consumer"] as const;

/** One `deno compile` invocation. */
export interface CompileCommand {
  args: string[];
  output: string;
}

/** Arguments of `deno compile` for one service and target. */
export function compileCommand(options: {
  root: string;
  service: (typeof SERVICES)[number];
  target: string;
  outDir: string;
}): CompileCommand {
  const suffix = options.target.includes("windows") ? ".exe" : "";
  const output = `${options.outDir}/payments-${options.service}-${options.target}${suffix}`;
  return {
    output,
    args: [
      "compile",
      "--allow-net",
      "--allow-env",
      "--allow-read",
      "--allow-write",
      "--allow-sys",
      "--target",
      options.target,
      "--output",
      output,
      `${options.service}/main.ts`,
    ],
  };
}

/**
 * One sentence for a failed `deno compile`: the common case here is that the
 * denort runtime could not be downloaded; anything else is passed through.
 */
export function explainFailure(stderr: string, target: string): string {
  const download = /dl\.deno\.land|denort|Setting up base binary/i.test(stderr);
  if (download) {
    return `Cannot compile for ${target}: deno compile needs Deno's denort runtime, which it ` +
      `downloads from dl.deno.land (unreachable from this machine); set DENORT_BIN to a denort ` +
      `binary for this platform, or run the task where that host can be reached.`;
  }
  return `deno compile failed for ${target}:\n${stderr.trim()}`;
}
