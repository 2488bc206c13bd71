/**
 * Runs a long-lived process (the broker JVM) so that it can never outlive the Deno
 * process that started it, even when Deno is killed with SIGKILL.
 *
 * The process is started by a tiny `sh` wrapper whose stdin is a pipe from Deno. A
 * watcher in the wrapper blocks reading that pipe; it reaches end-of-file when Deno
 * closes the pipe or dies (the kernel closes it either way), and then sends SIGTERM and,
 * after a grace period, SIGKILL. PR_SET_PDEATHSIG is not used on purpose: it fires when
 * the spawning thread exits, and Deno spawns from worker threads that come and go.
 *
 * @module
 */

/** Options of {@linkcode spawnGuarded}. */
export interface GuardedOptions {
  /** File the process's stdout and stderr are appended to. */
  logFile: string;
  /** Working directory. */
  cwd?: string;
  /** Seconds between SIGTERM and SIGKILL when the guard fires (default 10). */
  graceSeconds?: number;
}

/** A process started by {@linkcode spawnGuarded}. */
export interface GuardedProcess {
  /** Pid of the process itself (not of the wrapper). */
  readonly pid: number;
  /** Resolves with the exit code once the process has exited (128+n when killed by signal n). */
  readonly exited: Promise<number>;
  /** Whether the process has exited. */
  readonly hasExited: boolean;
  /** Sends a signal to the process; no-op once it has exited. */
  kill(signal: Deno.Signal): void;
  /** SIGTERM, wait up to `timeoutMs`, then SIGKILL; resolves with the exit code. */
  stop(timeoutMs?: number): Promise<number>;
}

// $1 = grace ticks (0.2 s each); $2.. = the command. fd 3 keeps Deno's pipe: without an
// explicit redirection a background job of a non-interactive shell reads /dev/null.
// INT and QUIT are ignored so a Ctrl-C in the terminal reaches only Deno, which then
// stops the broker in order; background jobs of sh ignore them already. The shell's own
// messages ("Killed" when the child dies of SIGKILL) go to the log, not to our stderr.
const GUARD_SCRIPT = `
exec 2>>"$GUARD_LOG"
trap '' INT QUIT
ticks=$1; shift
exec 3<&0
"$@" </dev/null >>"$GUARD_LOG" 2>&1 &
child=$!
echo "$child"
(
  while read -r _; do :; done
  kill -TERM "$child" 2>/dev/null || exit 0
  i=0
  while kill -0 "$child" 2>/dev/null && [ "$i" -lt "$ticks" ]; do sleep 0.2; i=$((i+1)); done
  kill -KILL "$child" 2>/dev/null
) <&3 &
watcher=$!
exec 3<&-
wait "$child"
rc=$?
kill "$watcher" 2>/dev/null
exit "$rc"
`;

/** Starts `cmd args` guarded against outliving this Deno process. */
export async function spawnGuarded(
  cmd: string,
  args: string[],
  options: GuardedOptions,
): Promise<GuardedProcess> {
  const ticks = Math.ceil((options.graceSeconds ?? 10) * 5);
  // Create the log file first so a bad path fails here with a clear Deno error.
  (await Deno.open(options.logFile, { append: true, create: true })).close();
  const child = new Deno.Command("sh", {
    args: ["-c", GUARD_SCRIPT, "kafka-guard", String(ticks), cmd, ...args],
    cwd: options.cwd,
    env: { GUARD_LOG: options.logFile },
    stdin: "piped",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const pid = await readPid(child.stdout);
  let exitCode: number | undefined;
  let stdinClosed = false;
  const closeStdin = async () => {
    if (stdinClosed) return;
    stdinClosed = true;
    await child.stdin.close().catch(() => {});
  };
  const exited = child.status.then(async (status) => {
    exitCode = status.signal ? 128 + signalNumber(status.signal) : status.code;
    await closeStdin();
    return exitCode;
  });
  if (pid === undefined) {
    await closeStdin();
    const code = await exited;
    throw new Error(`Cannot start ${cmd}: its wrapper shell exited with code ${code}`);
  }

  const kill = (signal: Deno.Signal) => {
    if (exitCode !== undefined) return;
    try {
      Deno.kill(pid, signal);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
  };
  const stop = async (timeoutMs = 15_000) => {
    kill("SIGTERM");
    kill("SIGCONT"); // a paused process cannot act on SIGTERM
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), timeoutMs);
    });
    const first = await Promise.race([exited, timedOut]);
    clearTimeout(timer);
    if (first === "timeout") kill("SIGKILL");
    return await exited;
  };
  return {
    pid,
    exited,
    get hasExited() {
      return exitCode !== undefined;
    },
    kill,
    stop,
  };
}

/** Reads the first line of the wrapper's stdout (the child's pid), then lets go of the pipe. */
async function readPid(stdout: ReadableStream<Uint8Array>): Promise<number | undefined> {
  const reader = stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  try {
    while (!text.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
  const pid = Number.parseInt(text, 10);
  return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
}

const SIGNALS: Partial<Record<Deno.Signal, number>> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGKILL: 9,
  SIGTERM: 15,
};

function signalNumber(signal: Deno.Signal): number {
  return SIGNALS[signal] ?? 0;
}
