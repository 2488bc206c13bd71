/**
 * Debian's headless Chromium as an independent client of our pages: loads a URL in a
 * fresh profile, lets its scripts run, and returns the DOM they left. It reaches nothing
 * outside this machine, so a page that needs a CDN comes back empty.
 *
 * @example
 * ```ts
 * import { dumpDom } from "@payments/testing/chromium";
 * const dom = await dumpDom("http://127.0.0.1:8000/docs");
 * ```
 *
 * @module
 */

/** How to get the browser, for the message when it is missing. */
export const CHROMIUM_INSTALL = "apt-get install chromium";

/** Options of {@linkcode dumpDom}. */
export interface DumpDomOptions {
  /** Virtual time the page's scripts get before the DOM is taken (default 20 000 ms). */
  budgetMs?: number;
  /** Wall-clock limit of the whole run (default 120 000 ms): a busy machine is slow. */
  timeoutMs?: number;
  /** The browser's command (default `chromium`, Debian's name). */
  command?: string;
}

/**
 * The DOM of `url` after its scripts ran (`--dump-dom`). Throws one line saying how
 * to install Chromium when it is missing, and the browser's output when it fails.
 */
export async function dumpDom(url: string, options: DumpDomOptions = {}): Promise<string> {
  const profile = await Deno.makeTempDir({ prefix: "payments-chromium-" });
  try {
    let output: Deno.CommandOutput;
    try {
      output = await new Deno.Command(options.command ?? "chromium", {
        args: [
          "--headless",
          "--no-sandbox",
          "--disable-gpu",
          "--disable-quic",
          "--no-first-run",
          "--disable-background-networking",
          "--disable-component-update",
          "--disable-sync",
          `--user-data-dir=${profile}`,
          `--virtual-time-budget=${options.budgetMs ?? 20_000}`,
          "--dump-dom",
          url,
        ],
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
        signal: AbortSignal.timeout(options.timeoutMs ?? 120_000),
      }).output();
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) {
        const name = options.command ?? "chromium";
        throw new Error(`${name} is not installed; install it with: ${CHROMIUM_INSTALL}`, {
          cause: error,
        });
      }
      throw error;
    }
    if (!output.success) {
      const stderr = new TextDecoder().decode(output.stderr).split("\n").slice(-20).join("\n");
      throw new Error(`chromium exited with code ${output.code} loading ${url}:\n${stderr}`);
    }
    return new TextDecoder().decode(output.stdout);
  } finally {
    await Deno.remove(profile, { recursive: true }).catch(() => {});
  }
}
