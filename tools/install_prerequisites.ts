// deno-lint-ignore-file no-console
/**
 * Checks the prerequisites of a task and installs the missing ones it can
 * (`prerequisites.ts` says what, `install_plan.ts` how). `deno task dev` and
 * `deno task test` call {@linkcode ensurePrerequisites}; as a command it is
 * `deno task prerequisites [--for dev|test] [--dry-run]`.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { type InstallStep, planInstall, type Privilege } from "./install_plan.ts";
import { type Prerequisite, prerequisitesFor, type Purpose } from "./prerequisites.ts";

/** Options of {@linkcode ensurePrerequisites}. */
export interface EnsureOptions {
  /** Where the lines go (one per install, or the command to run). */
  say: (line: string) => void;
  /** Print the plan, install nothing. */
  dryRun?: boolean;
  /** Default: root, else passwordless sudo, else none. */
  privilege?: Privilege;
  /** Default: the declared {@linkcode prerequisitesFor} `purpose`. */
  prerequisites?: readonly Prerequisite[];
}

/** Whether `argv` runs and succeeds (a missing program is a failure, not an error). */
export async function succeeds(argv: readonly string[]): Promise<boolean> {
  try {
    const { success } = await new Deno.Command(argv[0]!, {
      args: argv.slice(1),
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).output();
    return success;
  } catch {
    return false;
  }
}

/** What this process may install with: root, passwordless sudo, or neither. */
export async function detectPrivilege(): Promise<Privilege> {
  if (Deno.uid() === 0) return "root";
  return await succeeds(["sudo", "-n", "true"]) ? "sudo" : "none";
}

async function missingOf(prerequisites: readonly Prerequisite[]): Promise<Prerequisite[]> {
  const missing: Prerequisite[] = [];
  for (const prerequisite of prerequisites) {
    if (!await succeeds(prerequisite.check)) missing.push(prerequisite);
  }
  return missing;
}

async function runStep(step: InstallStep): Promise<boolean> {
  const run = async (argv: string[]) => {
    const { success } = await new Deno.Command(argv[0]!, {
      args: argv.slice(1),
      stdin: "null",
      stdout: "inherit",
      stderr: "inherit",
    }).output();
    return success;
  };
  return await run(step.argv) || (step.orElse !== undefined && await run(step.orElse));
}

/**
 * Makes sure `purpose`'s prerequisites are there: installs the missing ones when it can
 * (one line each), or says the one command that would. Resolves true when everything
 * is there (or, dry, would be installed).
 */
export async function ensurePrerequisites(
  purpose: Purpose,
  options: EnsureOptions,
): Promise<boolean> {
  const missing = await missingOf(options.prerequisites ?? prerequisitesFor(purpose));
  if (missing.length === 0) return true;
  const privilege = options.privilege ?? await detectPrivilege();
  const plan = planInstall(missing, privilege);
  if (!plan.possible) {
    options.say(
      `deno task ${purpose} needs ${missing.map((p) => p.name).join(", ")}, which this user ` +
        `cannot install (not root, no passwordless sudo). Run: ${plan.command}`,
    );
    return false;
  }
  for (const line of plan.lines) options.say(line);
  if (options.dryRun) {
    for (const step of plan.steps) options.say(`would run: ${step.argv.join(" ")}`);
    return true;
  }
  for (const step of plan.steps) {
    if (!await runStep(step)) {
      options.say(`installing failed: ${step.argv.join(" ")}`);
      return false;
    }
  }
  const still = await missingOf(missing);
  if (still.length > 0) {
    options.say(`still missing after installing: ${still.map((p) => p.name).join(", ")}`);
    return false;
  }
  return true;
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      for: { type: "string", default: "test" },
      "dry-run": { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help || (values.for !== "dev" && values.for !== "test")) {
    console.log(`Usage: deno task prerequisites [--for dev|test] [--dry-run]

Installs what deno task dev (a JDK and Maven, for the local broker) or deno task test
(also kcat, Prometheus, Alertmanager, docker-compose, Chromium, pip, confluent-kafka, Go
and a Jaeger built with it) needs and is missing: Debian packages as root or with
passwordless sudo, Python packages with pip, Jaeger with deno task jaeger --build.
--dry-run says what it would install and runs nothing.`);
    Deno.exit(values.help ? 0 : 2);
  }
  const ok = await ensurePrerequisites(values.for, {
    say: (line) => console.log(line),
    dryRun: values["dry-run"] === true,
  });
  Deno.exit(ok ? 0 : 1);
}
