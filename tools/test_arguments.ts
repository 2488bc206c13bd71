/**
 * How `deno task test` reads its arguments: its own two options, and everything else
 * passed to `deno test` as written, so `--filter name` keeps its value and
 * `--filter=name` is not dropped (a generic option parser would treat both as unknown
 * flags of ours and run every test instead).
 *
 * @module
 */

/** What `deno task test` was asked to do. */
export interface TestArguments {
  help: boolean;
  /** Skip fmt, lint and type checks. */
  noChecks: boolean;
  /** The arguments for `deno test`, after `test -A`. */
  denoTest: string[];
}

/**
 * Splits `args` (as given to the task; a leading `--` is allowed). The fault-injection
 * suite (`chaos/`) has its own task, so it is left out unless an argument names it.
 */
export function parseTestArguments(args: readonly string[]): TestArguments {
  const rest = args[0] === "--" ? args.slice(1) : [...args];
  const own = (name: string) => rest.includes(name);
  const denoTest = rest.filter((arg) => arg !== "--help" && arg !== "--no-checks");
  const namesChaos = denoTest.some((arg) => /(^|\/)chaos(\/|$)/.test(arg));
  return {
    help: own("--help"),
    noChecks: own("--no-checks"),
    denoTest: namesChaos ? denoTest : [...denoTest, "--ignore=chaos/"],
  };
}
