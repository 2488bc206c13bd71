/**
 * `promtool check metrics` on an exposition text: the lint Prometheus itself applies
 * to metric names, types and help.
 *
 * @module
 */
import { runTool } from "./tool.ts";

/** What promtool said: exit code and its combined output (empty when clean). */
export interface PromtoolResult {
  code: number;
  output: string;
}

/** Runs `promtool check metrics` with `text` on stdin; missing promtool is an error saying how to install it. */
export async function checkMetrics(text: string): Promise<PromtoolResult> {
  const { code, output } = await runTool("promtool", ["check", "metrics"], { stdin: text });
  return { code, output };
}
