/**
 * `promtool check metrics` on an exposition text: the lint Prometheus itself applies
 * to metric names, types and help.
 *
 * @module
 */

/** What promtool said: exit code and its combined output (empty when clean). */
export interface PromtoolResult {
  code: number;
  output: string;
}

/** Runs `promtool check metrics` with `text` on stdin; missing promtool is an error saying how to install it. */
export async function checkMetrics(text: string): Promise<PromtoolResult> {
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command("promtool", {
      args: ["check", "metrics"],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  } catch (error) {
    throw new Error("promtool is missing: install it with `apt-get install prometheus`", {
      cause: error,
    });
  }
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(text));
  await writer.close();
  const { code, stdout, stderr } = await child.output();
  const decoder = new TextDecoder();
  return { code, output: decoder.decode(stdout) + decoder.decode(stderr) };
}
