/**
 * `deno task dev` as a subprocess for its tests: started in its own process group,
 * as a terminal starts a foreground job, so a Ctrl-C can be sent to the whole group;
 * every line it prints is kept.
 *
 * @module
 */

import { freePort } from "@payments/kafka/ports";

const ROOT = new URL("..", import.meta.url).pathname;

/**
 * The environment that gives dev's Jaeger free ports and a directory of `dataDir`, so a
 * test's dev never meets another Jaeger (a developer's, another test's); and its query
 * port.
 */
export function devJaegerEnv(dataDir: string): { env: Record<string, string>; queryPort: number } {
  const queryPort = freePort("127.0.0.1");
  return {
    env: {
      JAEGER_OTLP_GRPC_PORT: String(freePort("127.0.0.1")),
      JAEGER_OTLP_HTTP_PORT: String(freePort("127.0.0.1")),
      JAEGER_QUERY_PORT: String(queryPort),
      JAEGER_QUERY_GRPC_PORT: String(freePort("127.0.0.1")),
      JAEGER_DATA_DIR: `${dataDir}/jaeger`,
    },
    queryPort,
  };
}

/** A running `deno task dev`. */
export interface DevSession extends AsyncDisposable {
  /** Every stdout line so far. */
  lines(): string[];
  /** Waits until a line matches; throws with the output after `timeoutMs`. */
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Ctrl-C as a terminal sends it (SIGINT to the process group); resolves with the exit code. */
  interrupt(timeoutMs?: number): Promise<number>;
  /**
   * Sends `signal` to the whole process group, as systemd, `timeout` or a closed terminal
   * do; resolves with the exit code (SIGKILL after `timeoutMs`).
   */
  stopGroup(signal: Deno.Signal, timeoutMs?: number): Promise<number>;
  readonly exited: Promise<number>;
  /** Pid of `deno task dev`, the leader of its process group. */
  readonly pid: number;
}

/** Starts `deno task dev ...args` with exactly the environment `env`. */
export function startDev(args: string[], env: Record<string, string>): DevSession {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["task", "dev", ...args],
    cwd: ROOT,
    env,
    clearEnv: true,
    detached: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const out: string[] = [];
  const keep = async (stream: ReadableStream<Uint8Array>, into: string[]) => {
    let pending = "";
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      const parts = (pending + chunk).split("\n");
      pending = parts.pop() ?? "";
      into.push(...parts);
    }
    if (pending) into.push(pending);
  };
  const err: string[] = [];
  const drained = Promise.all([keep(child.stdout, out), keep(child.stderr, err)]);
  const exited = child.status.then(async (status) => {
    await drained;
    return status.code;
  });
  let done = false;
  exited.then(() => done = true);
  const dump = () =>
    `--- stdout ---\n${out.slice(-80).join("\n")}\n--- stderr ---\n${err.slice(-20).join("\n")}`;
  const signalGroup = (signal: Deno.Signal) => {
    try {
      Deno.kill(-child.pid, signal);
    } catch { /* already gone */ }
  };

  const stopGroup = async (signal: Deno.Signal, timeoutMs = 90_000) => {
    if (!done) signalGroup(signal);
    const timer = setTimeout(() => signalGroup("SIGKILL"), timeoutMs);
    try {
      return await exited;
    } finally {
      clearTimeout(timer);
    }
  };
  const interrupt = (timeoutMs?: number) => stopGroup("SIGINT", timeoutMs);

  return {
    lines: () => [...out],
    async waitForLine(pattern, timeoutMs = 120_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = out.find((line) => pattern.test(line));
        if (found !== undefined) return found;
        if (done) throw new Error(`deno task dev exited before printing ${pattern}:\n${dump()}`);
        if (Date.now() > deadline) {
          throw new Error(`deno task dev printed no line matching ${pattern}:\n${dump()}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    },
    interrupt,
    stopGroup,
    exited,
    pid: child.pid,
    [Symbol.asyncDispose]: async () => {
      await interrupt();
    },
  };
}

/** Polls `url` until it answers 200 (a service's /ready). */
export async function waitUntilOk(url: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
      await response.body?.cancel();
      if (response.ok) return;
    } catch { /* not yet */ }
    if (Date.now() > deadline) throw new Error(`${url} did not answer 200 within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/** The README's curl command for the lab's request (the first `curl -X POST` block). */
export async function readmeCurl(): Promise<string> {
  const readme = await Deno.readTextFile(`${ROOT}README.md`);
  const block = [...readme.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!)
    .find((text) => text.trimStart().startsWith("curl -X POST"));
  if (!block) throw new Error("README.md has no ```sh block starting with curl -X POST");
  return block.trim();
}

/**
 * The pid of a process `deno task dev` started (Linux: from /proc): the descendant of
 * `ancestor` whose command line contains `part`, such as `producer/main.ts`.
 */
export async function descendantPid(ancestor: number, part: string): Promise<number> {
  const parents = new Map<number, number>();
  for await (const entry of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const stat = await Deno.readTextFile(`/proc/${entry.name}/stat`);
      // "pid (comm) state ppid ...": comm may hold spaces, so read after its last ")".
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      parents.set(Number(entry.name), ppid);
    } catch { /* gone meanwhile */ }
  }
  const descends = (pid: number): boolean => {
    for (let p = parents.get(pid); p !== undefined && p > 1; p = parents.get(p)) {
      if (p === ancestor) return true;
    }
    return false;
  };
  for (const pid of parents.keys()) {
    if (!descends(pid)) continue;
    const cmdline = await Deno.readTextFile(`/proc/${pid}/cmdline`).catch(() => "");
    if (cmdline.includes(part)) return pid;
  }
  throw new Error(`no process under ${ancestor} runs ${part}`);
}
