/**
 * Runs the external tools the observability tests rely on (promtool, docker-compose,
 * python3 from docker-compose's dependencies). A missing tool is a failure that says how
 * to install it, never a skipped test.
 *
 * @module
 */

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

const PY_YAML_TO_JSON = "import json, sys, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout)";

/**
 * Parses YAML with PyYAML, which Debian's docker-compose depends on (so it is present
 * wherever these tests can run). Throws with the parser's message on invalid YAML.
 */
export async function parseYaml(text: string): Promise<unknown> {
  const result = await runTool("python3", ["-c", PY_YAML_TO_JSON], { stdin: text });
  if (!result.success) {
    throw new Error(
      `Cannot parse YAML (python3 with PyYAML, from ${INSTALL_HINT}):\n${result.output}`,
    );
  }
  return JSON.parse(result.stdout);
}
