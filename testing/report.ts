/**
 * Figures measured by reliability tests (payments sent, acknowledged, 503s, ...): printed
 * on stderr and, when `RELIABILITY_REPORT` names a file, appended to it as JSON Lines so
 * docs/reliability.md can quote the last run.
 *
 * @module
 */

/** Records one test's figures. */
export function reportFigures(test: string, figures: Record<string, unknown>): void {
  const line = JSON.stringify({ test, at: new Date().toISOString(), ...figures });
  Deno.stderr.writeSync(new TextEncoder().encode(`figures ${line}\n`));
  const file = Deno.env.get("RELIABILITY_REPORT");
  if (file) Deno.writeTextFileSync(file, line + "\n", { append: true });
}
