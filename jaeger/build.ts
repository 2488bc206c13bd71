/**
 * Builds Jaeger v2 once per version from the Go module proxy (the Go module in
 * `jaeger/tool/` pins it) into a cache outside the checkout, so every worktree, CI run and
 * test on the machine reuses one binary; later calls only look at the file.
 *
 * @example
 * ```ts
 * import { ensureJaeger } from "@payments/jaeger/build";
 * const binary = await ensureJaeger(); // "/root/.cache/payments/jaeger-v1.75.0/jaeger"
 * ```
 *
 * @module
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { JaegerError } from "./errors.ts";

/** The Go module version of Jaeger that `jaeger/tool/go.mod` requires. */
export const JAEGER_MODULE_VERSION = "v1.75.0";
/** The Jaeger v2 release that module version is (Jaeger tags each release twice). */
export const JAEGER_VERSION = "2.12.0";
/** The package `go build` builds: Jaeger v2's single binary. */
export const JAEGER_PACKAGE = "github.com/jaegertracing/jaeger/cmd/jaeger";
/** The Go module that pins Jaeger and its dependencies (go.mod, go.sum). */
export const TOOL_MODULE_DIR: string = fileURLToPath(new URL("./tool/", import.meta.url));

/** What to tell a person without Go: one command, and why Debian 12's Go is not enough. */
export const GO_INSTALL_HINT = "install Go 1.24.6 or newer and run this again: " +
  "`apt-get install golang-go` on Debian 13 (its Go 1.24 fetches the newer toolchain " +
  "go.mod asks for from the Go module proxy by itself); Debian 12's golang-go (1.19) is too old";

/** Options of {@linkcode ensureJaeger}. */
export interface EnsureJaegerOptions {
  /** Cache root (default {@linkcode defaultCacheDir}); the binary goes in `jaeger-<version>/`. */
  cacheDir?: string;
  /** The `go` binary (default `go` on PATH). */
  go?: string;
  /** Where the one line saying what is built and why goes (default stderr). */
  log?: (line: string) => void;
  /** Show Go's own output while building (default true); false keeps it for the error. */
  progress?: boolean;
}

/**
 * `$XDG_CACHE_HOME/payments`, else `~/.cache/payments`: shared by every checkout on the
 * machine, unlike the repository's `.cache/`, because the build takes minutes.
 */
export function defaultCacheDir(env: { get(name: string): string | undefined } = Deno.env): string {
  const xdg = env.get("XDG_CACHE_HOME");
  if (xdg) return join(xdg, "payments");
  const home = env.get("HOME");
  if (!home) {
    throw new JaegerError(
      "Cannot find a cache directory for the Jaeger binary: neither XDG_CACHE_HOME nor HOME is set",
    );
  }
  return join(home, ".cache", "payments");
}

/** Where the binary of {@linkcode JAEGER_MODULE_VERSION} lives under `cacheDir`. */
export function jaegerBinaryPath(cacheDir: string = defaultCacheDir()): string {
  return join(cacheDir, `jaeger-${JAEGER_MODULE_VERSION}`, "jaeger");
}

/**
 * Returns the path of the Jaeger binary, building it first when the cache has none:
 * `go build` in the pinned module (about 5 minutes and 120 MB the first time on 2 cores;
 * Go's own caches make a rebuild take seconds). Throws a {@linkcode JaegerError} naming
 * the command to run when Go is missing, or Go's output when the build fails.
 */
export async function ensureJaeger(options: EnsureJaegerOptions = {}): Promise<string> {
  const binary = jaegerBinaryPath(options.cacheDir ?? defaultCacheDir());
  if (await isExecutable(binary)) return binary;

  const go = options.go ?? "go";
  await requireGo(go);
  const log = options.log ?? ((line) => writeErr(`${line}\n`));
  const dir = join(binary, "..");
  await Deno.mkdir(dir, { recursive: true });
  // One build per machine at a time: another worktree's tests or dev task starting at the
  // same moment waits for this build and takes its binary rather than building it again.
  using lock = await Deno.open(join(dir, "build.lock"), { create: true, write: true });
  if (await isBuilding(dir)) {
    log(`Waiting for the Jaeger build another process is running in ${dir}`);
  }
  await lock.lock(true);
  if (await isExecutable(binary)) return binary;
  log(
    `Building Jaeger ${JAEGER_VERSION} (Go module ${JAEGER_MODULE_VERSION}) into ${binary}: ` +
      "it is not built on this machine yet (once per version; about 5 minutes on 2 cores)",
  );
  // Build to a private name and rename, so an interrupted build never leaves a
  // half-written binary where the next call would take it as built.
  const staging = join(dir, `jaeger.building-${crypto.randomUUID()}`);
  const progress = options.progress ?? true;
  try {
    const out = await new Deno.Command(go, {
      args: ["build", "-ldflags", versionLdflags(), "-o", staging, JAEGER_PACKAGE],
      cwd: TOOL_MODULE_DIR,
      stdin: "null",
      stdout: progress ? "inherit" : "piped",
      stderr: progress ? "inherit" : "piped",
    }).output();
    if (!out.success) {
      const detail = progress ? "see Go's output above" : tail(out.stderr, 20);
      throw new JaegerError(
        `Cannot build Jaeger ${JAEGER_VERSION}: go build failed with exit code ${out.code} ` +
          `(is the Go module proxy reachable?); ${detail}`,
      );
    }
    await Deno.rename(staging, binary);
  } finally {
    await Deno.remove(staging).catch(() => {});
  }
  return binary;
}

/** Fills in what `jaeger version` prints, as Jaeger's own release build does. */
function versionLdflags(): string {
  const pkg = "github.com/jaegertracing/jaeger/internal/version";
  return `-X ${pkg}.latestVersion=v${JAEGER_VERSION} -X ${pkg}.commitSHA=${JAEGER_MODULE_VERSION}`;
}

/**
 * The oldest Go that can build the pinned module: from 1.21 on, `go build` fetches the
 * newer Go release `go.mod` asks for from the proxy by itself; older ones fail on it.
 */
const OLDEST_GO = [1, 21] as const;

/**
 * The `[major, minor]` of `go version`'s output (`go version go1.19.8 linux/amd64`), or
 * undefined when it does not say.
 */
export function goVersion(output: string): [number, number] | undefined {
  const match = /\bgo(\d+)\.(\d+)/.exec(output);
  return match ? [Number(match[1]), Number(match[2])] : undefined;
}

/**
 * Throws a {@linkcode JaegerError} with {@linkcode GO_INSTALL_HINT} unless `go version`
 * runs and names a Go of {@linkcode OLDEST_GO} or newer.
 */
async function requireGo(go: string): Promise<void> {
  let output: string | undefined;
  try {
    const out = await new Deno.Command(go, { args: ["version"], stdout: "piped", stderr: "null" })
      .output();
    if (out.success) output = new TextDecoder().decode(out.stdout);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  if (output === undefined) {
    throw new JaegerError(
      `Cannot build Jaeger ${JAEGER_VERSION}: Go (\`${go}\`) is not installed; ${GO_INSTALL_HINT}.`,
    );
  }
  const version = goVersion(output);
  const [major, minor] = OLDEST_GO;
  if (version && (version[0] < major || (version[0] === major && version[1] < minor))) {
    throw new JaegerError(
      `Cannot build Jaeger ${JAEGER_VERSION}: \`${go}\` is Go ${version.join(".")}, too old to ` +
        `fetch the Go release Jaeger needs; ${GO_INSTALL_HINT}.`,
    );
  }
}

/** Whether a build's staging file is in `dir` (only for the message; the lock decides). */
async function isBuilding(dir: string): Promise<boolean> {
  for await (const entry of Deno.readDir(dir)) {
    if (entry.name.startsWith("jaeger.building-")) return true;
  }
  return false;
}

async function isExecutable(path: string): Promise<boolean> {
  try {
    const info = await Deno.stat(path);
    return info.isFile && ((info.mode ?? 0o755) & 0o111) !== 0;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

function tail(bytes: Uint8Array, lines: number): string {
  return new TextDecoder().decode(bytes).trimEnd().split("\n").slice(-lines).join("\n");
}

function writeErr(text: string): void {
  Deno.stderr.writeSync(new TextEncoder().encode(text));
}
