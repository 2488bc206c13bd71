/**
 * Runs the external tools the observability tests rely on (promtool, docker-compose)
 * and parses their YAML inputs. A missing tool is a failure that says how to install
 * it, never a skipped test.
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
}

/** How to get every tool these tests run. */
export const INSTALL_HINT = "apt-get install prometheus docker-compose";

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
      throw new Error(`${command} is not installed; install it with: ${INSTALL_HINT}`, {
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
  return { success, code, stdout: out, output: `${out}${err}` };
}

/** Parses YAML (the `yaml` package); throws with the parser's message on invalid YAML. */
export function parseYaml(text: string): unknown {
  return parse(text);
}
