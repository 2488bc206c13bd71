/**
 * Types dashboard JSON files against Grafana's published model ({@linkcode TypedDashboard},
 * from `@grafana/schema`) with the TypeScript compiler `deno check` runs: each file
 * becomes `export const dashboard = (<the JSON, verbatim>) satisfies TypedDashboard;`,
 * so an unknown property, a wrong type or a missing field is a compiler error, reported
 * at its line and column in the JSON file.
 *
 * @module
 */

/** Lines the generated module puts before the JSON text. */
const HEADER_LINES = 2;

/** One dashboard to check: its repository path and its text. */
export interface DashboardSource {
  file: string;
  text: string;
}

/**
 * Type-checks every dashboard; returns one `file:line:column: TSxxxx message` per error
 * (empty when all conform). `deno check` failing for another reason throws with its output.
 *
 * @example
 * ```ts
 * await checkDashboardTypes([{ file: "grafana/dashboards/x.json", text }]); // []
 * ```
 */
export async function checkDashboardTypes(dashboards: DashboardSource[]): Promise<string[]> {
  const root = new URL("../", import.meta.url);
  const schema = new URL("dashboard_schema.ts", import.meta.url).href;
  const dir = await Deno.makeTempDir({ prefix: "payments-dashboard-types-" });
  try {
    const generated = new Map<string, string>();
    for (const [i, { file, text }] of dashboards.entries()) {
      const path = `${dir}/dashboard_${i}.ts`;
      generated.set(new URL(`file://${path}`).href, file);
      await Deno.writeTextFile(
        path,
        `import type { TypedDashboard } from "${schema}";\nexport const dashboard = (\n` +
          `${text.trimEnd()}\n) satisfies TypedDashboard;\n`,
      );
    }
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: [
        "check",
        "--quiet",
        "--config",
        new URL("deno.json", root).pathname,
        ...[
          ...generated.keys(),
        ].map((href) => new URL(href).pathname),
      ],
      env: { NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const output = new TextDecoder().decode(stdout) + new TextDecoder().decode(stderr);
    if (code === 0) return [];
    const problems: string[] = [];
    // Each error: `TS2353 [ERROR]: message` ... `    at file:///tmp/.../dashboard_0.ts:12:5`
    const pattern = /^(TS\d+) \[ERROR\]: ([^\n]*)[\s\S]*?^\s+at (file:\/\/\S+?):(\d+):(\d+)$/gm;
    for (const [, id, message, href, line, column] of output.matchAll(pattern)) {
      const file = generated.get(href!);
      if (!file) continue; // an error inside the schema's own declarations: reported below
      problems.push(`${file}:${Number(line) - HEADER_LINES}:${column}: ${id} ${message}`);
    }
    if (problems.length === 0) throw new Error(`deno check failed:\n${output}`);
    return problems;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
