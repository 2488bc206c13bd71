/**
 * The processes of `deno task dev` and the order they stop in, whatever asked for the
 * stop: a Ctrl-C, SIGTERM or SIGHUP to dev or to its whole process group, a service
 * stopped on its own, or one that died.
 *
 * Every child runs in its own process group, so a signal sent to dev's group reaches
 * dev alone and dev decides the order: the services first (SIGINT, which `--watch`
 * turns into their graceful stop: they commit and leave the consumer group while Kafka
 * is up), Prometheus and Alertmanager beside them, the broker last.
 *
 * @module
 */
import type { DevOutput } from "./prefixed.ts";

/** How a child stops, and when in the order. */
export type Role = "service" | "auxiliary" | "broker";

/** Options of {@linkcode Supervisor.spawn}. */
export interface SpawnOptions {
  /** Sees every line the child prints. */
  onLine?: (line: string) => void;
  /** Said after "broker stopped (exit code N)" (where its log is). */
  stoppedNote?: string;
}

/** Options of {@linkcode createSupervisor}. */
export interface SupervisorOptions {
  output: DevOutput;
  /** How long a service gets to finish before it is killed (default 30 s). */
  graceMs?: number;
  /** Ends dev (default `Deno.exit`). */
  exit?: (code: number) => never;
}

/** The children of one dev session. */
export interface Supervisor {
  /** Starts `command` (built with {@linkcode CHILD_OPTIONS}), its output prefixed with `name`. */
  spawn(name: string, role: Role, command: Deno.Command, options?: SpawnOptions): Deno.ChildProcess;
  /** Whether the session is stopping. */
  readonly stopping: boolean;
  /** Stops everything in order, waits for the last line of output, exits with `code`. */
  stopAll(code: number): Promise<never>;
  /** Resolves when a service or the broker exits by itself, with its name and code. */
  firstExit(): Promise<{ name: string; code: number }>;
  /** Copies of the children's output, for lines printed before they end. */
  flush(): Promise<void>;
}

/** Builds the supervisor of one session. */
export function createSupervisor(options: SupervisorOptions): Supervisor {
  const { output } = options;
  const graceMs = options.graceMs ?? 30_000;
  const exit = options.exit ?? ((code: number) => Deno.exit(code));
  const children: { name: string; role: Role; child: Deno.ChildProcess; note?: string }[] = [];
  const outputs: Promise<void>[] = [];
  let stopping: Promise<never> | undefined;

  const flush = async () => {
    await Promise.allSettled(outputs);
  };

  const stopService = async (child: Deno.ChildProcess) => {
    signal(child, "SIGINT");
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<"late">((resolve) =>
      timer = setTimeout(() => resolve("late"), graceMs)
    );
    if (await Promise.race([child.status, late]) === "late") signal(child, "SIGKILL");
    clearTimeout(timer);
    await child.status;
  };

  const terminate = (child: Deno.ChildProcess) => {
    signal(child, "SIGTERM");
    return child.status;
  };

  return {
    spawn(name, role, command, { onLine, stoppedNote } = {}) {
      const child = command.spawn();
      children.push({ name, role, child, ...(stoppedNote ? { note: stoppedNote } : {}) });
      outputs.push(
        output.pipe(child.stdout, name, "stdout", onLine).catch(() => {}),
        output.pipe(child.stderr, name, "stderr", onLine).catch(() => {}),
      );
      return child;
    },
    get stopping() {
      return stopping !== undefined;
    },
    stopAll(code) {
      return stopping ??= (async () => {
        const of = (role: Role) => children.filter((c) => c.role === role);
        await Promise.allSettled([
          ...of("service").map(({ child }) => stopService(child)),
          ...of("auxiliary").map(({ child }) => terminate(child)),
        ]);
        for (const { name, child, note } of of("broker")) {
          const status = await terminate(child).catch(() => undefined);
          await flush();
          const code = status?.code ?? "unknown";
          output.line(
            name,
            `broker stopped (exit code ${code})${note ? `; ${note}` : ""}`,
            "stdout",
          );
        }
        await flush();
        return exit(code);
      })();
    },
    firstExit: () =>
      Promise.race(
        children.filter((c) => c.role !== "auxiliary").map(async ({ name, child }) => ({
          name,
          code: (await child.status).code,
        })),
      ),
    flush,
  };
}

/** Sends `name` to a child; one that is gone already is not an error. */
function signal(child: Deno.ChildProcess, name: Deno.Signal): void {
  try {
    child.kill(name);
  } catch { /* already gone */ }
}

// deno-lint-ignore no-control-regex -- ANSI colour sequences around the watcher's words
const ANSI = /\x1b\[[0-9;]*m/g;

/**
 * Whether a line is what `deno run --watch` prints when the program ended with exit
 * code 0 and the watcher waits for a file change: for a service under dev, that it
 * stopped cleanly on a signal of its own (a failure says "failed", or names its code).
 */
export function isWatcherFinished(line: string): boolean {
  return /^Watcher Process finished\. Restarting on file change/.test(line.replace(ANSI, ""));
}

/** Options every dev child is spawned with: own process group, piped output. */
export const CHILD_OPTIONS = {
  // Its own process group: a signal to dev's group (a terminal's Ctrl-C, `kill -- -PGID`,
  // systemd, `timeout`) reaches dev alone, which stops the children in order.
  detached: true,
  stdin: "piped",
  stdout: "piped",
  stderr: "piped",
} as const;
