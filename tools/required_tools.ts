/**
 * The external programs the test suite needs, and how to get each. A missing
 * one is a failure with instructions, never a skipped test.
 *
 * @module
 */

/** A program the tests run, with the command that installs it on Debian. */
export interface RequiredTool {
  command: string;
  args: string[];
  install: string;
}

/** Everything `deno task test` needs besides Deno itself. */
export const REQUIRED_TOOLS: readonly RequiredTool[] = [
  { command: "java", args: ["-version"], install: "apt-get install openjdk-17-jdk-headless" },
  { command: "mvn", args: ["-v"], install: "apt-get install maven" },
  { command: "kcat", args: ["-V"], install: "apt-get install kcat" },
  { command: "promtool", args: ["--version"], install: "apt-get install prometheus" },
  { command: "prometheus", args: ["--version"], install: "apt-get install prometheus" },
  {
    command: "prometheus-alertmanager",
    args: ["--version"],
    install: "apt-get install prometheus-alertmanager",
  },
  { command: "amtool", args: ["--version"], install: "apt-get install prometheus-alertmanager" },
  { command: "docker-compose", args: ["version"], install: "apt-get install docker-compose" },
];

/** Runs each tool's version command; returns one sentence per missing tool. */
export async function requireTools(tools: readonly RequiredTool[] = REQUIRED_TOOLS) {
  const missing: string[] = [];
  for (const tool of tools) {
    try {
      const { success } = await new Deno.Command(tool.command, {
        args: tool.args,
        stdout: "null",
        stderr: "null",
      }).output();
      if (!success) throw new Error("exit status");
    } catch {
      missing.push(`The tests need ${tool.command}, which is missing: ${tool.install}`);
    }
  }
  return missing;
}
