/**
 * A server binary (Prometheus, Alertmanager) as a subprocess of a test: started in its
 * own temporary directory, ready once an HTTP readiness URL answers 2xx, its output
 * kept for failure messages, stopped with SIGTERM (SIGKILL after 10 s) and cleaned up.
 *
 * @module
 */

/** A running daemon. */
export interface Daemon extends AsyncDisposable {
  /** Its temporary directory (config, data), removed on stop. */
  readonly dir: string;
  /** Its last log lines, for failure messages. */
  tail(lines?: number): string;
  /** SIGTERM (SIGKILL after 10 s), then removes `dir`. Idempotent. */
  stop(): Promise<void>;
}

/** How to start a daemon. */
export interface DaemonOptions {
  command: string;
  /** Arguments; `{{DIR}}` in any of them is replaced by the temporary directory. */
  args: string[];
  /** The Debian package to name when `command` is missing. */
  install: string;
  /** Files to write into the directory before the start, by name. */
  files?: Record<string, string>;
  /** Polled until it answers 2xx. */
  readyUrl: string;
  readyTimeoutMs?: number;
  env?: Record<string, string>;
  prefix: string;
}

/**
 * Starts `command` and waits for `readyUrl`; a missing binary fails with one sentence
 * saying how to install it, an early exit or a timeout with the daemon's last output.
 */
export async function startDaemon(options: DaemonOptions): Promise<Daemon> {
  const dir = await Deno.makeTempDir({ prefix: options.prefix });
  for (const [name, content] of Object.entries(options.files ?? {})) {
    await Deno.writeTextFile(`${dir}/${name}`, content);
  }
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(options.command, {
      args: options.args.map((arg) => arg.replaceAll("{{DIR}}", dir)),
      ...(options.env ? { env: options.env } : {}),
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  } catch (error) {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    if (error instanceof Deno.errors.NotFound) {
      throw new Error(
        `${options.command} is not installed; install it with: apt-get install ${options.install}`,
        { cause: error },
      );
    }
    throw error;
  }
  const output: string[] = [];
  const keep = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      output.push(...chunk.split("\n").filter((line) => line.length > 0));
      if (output.length > 400) output.splice(0, output.length - 200);
    }
  };
  const drained = Promise.all([keep(child.stdout), keep(child.stderr)]);
  let exited: number | undefined;
  const status = child.status.then((s) => (exited = s.code));
  const tail = (lines = 30) => output.slice(-lines).join("\n");
  let stopping: Promise<void> | undefined;
  const stop = () =>
    stopping ??= (async () => {
      if (exited === undefined) {
        try {
          child.kill("SIGTERM");
        } catch { /* already gone */ }
        const timer = setTimeout(() => {
          try {
            child.kill("SIGKILL");
          } catch { /* already gone */ }
        }, 10_000);
        await status;
        clearTimeout(timer);
      }
      await drained;
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    })();

  const timeoutMs = options.readyTimeoutMs ?? 30_000;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (exited !== undefined) {
      await stop();
      throw new Error(
        `${options.command} exited with code ${exited} before it was ready:\n${tail()}`,
      );
    }
    try {
      const response = await fetch(options.readyUrl, { signal: AbortSignal.timeout(2000) });
      await response.body?.cancel();
      if (response.ok) break;
    } catch { /* not listening yet */ }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(
        `${options.command} was not ready on ${options.readyUrl} within ${timeoutMs} ms:\n${tail()}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return { dir, tail, stop, [Symbol.asyncDispose]: stop };
}

/** GETs `url` and parses the JSON answer (10 s timeout). */
export async function getJson<T>(url: string): Promise<T> {
  const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  return await response.json() as T;
}
