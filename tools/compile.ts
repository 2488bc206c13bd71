// deno-lint-ignore-file no-console
/**
 * `deno task compile`: standalone executables of the producer and the consumer in
 * `dist/`, for this platform or the `--target`s given (`--target all` for every
 * platform users need). `deno compile` needs Deno's `denort` runtime: it honours
 * `DENORT_BIN` (this platform only) and otherwise downloads it from Deno's host;
 * when neither works this says so in one sentence and exits 1.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { compileCommand, explainFailure, SERVICES, TARGETS } from "./compile_plan.ts";

const HELP = `Usage: deno task compile [-- --target TARGET ...] [--out-dir DIR]

Builds dist/payments-producer-<target> and dist/payments-consumer-<target>.
Targets: ${TARGETS.join(", ")}, or "all". Default: this platform.
Set DENORT_BIN to a denort binary for this platform when Deno's download host
(dl.deno.land) cannot be reached.`;

const { values } = parseArgs({
  args: Deno.args,
  options: {
    help: { type: "boolean" },
    target: { type: "string", multiple: true },
    "out-dir": { type: "string", default: "dist" },
  },
});
if (values.help) {
  console.log(HELP);
  Deno.exit(0);
}

const requested = values.target ?? [Deno.build.target];
const targets = requested.includes("all") ? [...TARGETS] : requested;
const unknown = targets.filter((target) => !(TARGETS as readonly string[]).includes(target));
if (unknown.length > 0) {
  console.error(`Unknown target ${unknown.join(", ")}; choose from ${TARGETS.join(", ")} or all.`);
  Deno.exit(2);
}

const root = new URL("..", import.meta.url).pathname;
const outDir = values["out-dir"]!;
const outPath = outDir.startsWith("/") ? outDir : `${root}${outDir}`;
const outDirExisted = await Deno.stat(outPath).then(() => true, () => false);

/** deno compile creates the output folder before it fetches denort: leave none behind empty. */
async function removeEmptyOutDir(): Promise<void> {
  if (outDirExisted) return;
  // Not recursive: a folder that holds anything (an earlier target's build) stays.
  await Deno.remove(outPath).catch(() => {});
}

for (const target of targets) {
  for (const service of SERVICES) {
    const command = compileCommand({ root, service, target, outDir });
    const output = await new Deno.Command(Deno.execPath(), {
      args: command.args,
      cwd: root,
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!output.success) {
      console.error(explainFailure(new TextDecoder().decode(output.stderr), target));
      await removeEmptyOutDir();
      Deno.exit(1);
    }
    console.log(`built ${command.output}`);
  }
}
