/**
 * Runs the external programs tests check the product with (promtool, amtool,
 * docker-compose, kcat): its arguments, optionally a working directory and text on
 * stdin; its exit and what it printed. A missing program is an error that says how to
 * install it, never a skipped test. Also YAML parsing for the configs those programs read.
 *
 * @module
 */
import { parse } from "yaml";

/** What a tool printed and how it ended. */
export interface ToolResult {
  success: boolean;
  code: number;
  /** stdout and stderr, for assertion messages. */
  output: string;
  stdout: string;
  stderr: string;
}

/** The Debian package of each program the tests run directly. */
const PACKAGES: Record<string, string> = {
  promtool: "prometheus",
  amtool: "prometheus-alertmanager",
  "docker-compose": "docker-compose",
  kcat: "kcat",
};

/** How to install `command` (`apt-get install <package>`). */
export function installHint(command: string): string {
  return `apt-get install ${PACKAGES[command] ?? command}`;
}

/**
 * Runs `command args...` in `cwd`, feeding `stdin` when given.
 *
 * @example
 * ```ts
 * const { success, output } = await runTool("promtool", ["check", "rules", "alerts.yml"]);
 * ```
 */
export async function runTool(
  command: string,
  args: string[],
  { cwd, stdin }: { cwd?: string; stdin?: string } = {},
): Promise<ToolResult> {
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(command, {
      args,
      ...(cwd ? { cwd } : {}),
      stdin: stdin === undefined ? "null" : "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new Error(`${command} is not installed; install it with: ${installHint(command)}`, {
        cause: error,
      });
    }
    throw error;
  }
  if (stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(stdin));
    await writer.close();
  }
  const { code, success, stdout, stderr } = await child.output();
  const out = new TextDecoder().decode(stdout);
  const err = new TextDecoder().decode(stderr);
  return { success, code, stdout: out, stderr: err, output: `${out}${err}` };
}

/** Parses YAML (the `yaml` package); throws with the parser's message on invalid YAML. */
export function parseYaml(text: string): unknown {
  return parse(text);
}
