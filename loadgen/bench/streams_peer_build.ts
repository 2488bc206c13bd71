/**
 * Builds the Kafka Streams peer (`loadgen/bench/streams_peer/`) with Maven, against the
 * Kafka version the broker runs, into `.cache/streams-peer/<digest>/` at the repository
 * root: its jar and every dependency jar from Maven Central, never vendored. The digest
 * covers the pom, the sources and the Kafka version, so an edit rebuilds and an
 * unchanged peer is never rebuilt.
 *
 * @module
 */
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { KAFKA_VERSION } from "@payments/kafka/launcher";

const SOURCE_DIR = fileURLToPath(new URL("./streams_peer/", import.meta.url));
const CACHE_DIR = fileURLToPath(new URL("../../.cache/streams-peer/", import.meta.url));
const INSTALL_HINT = "install them with `apt-get install openjdk-17-jdk-headless maven`";

/** The peer's main class. */
export const STREAMS_PEER_MAIN = "payments.peer.StreamsPeer";

/** Thrown when the peer cannot be built; the message says what is missing. */
export class StreamsPeerBuildError extends Error {
  override name = "StreamsPeerBuildError";
}

/**
 * Extracts the major Java version from `mvn --version` ("Java version: 17.0.15, ...")
 * or `java -version` (`version "17.0.15"`, `version "1.8.0_392"` is 8).
 */
export function javaMajorVersion(output: string): number | undefined {
  const m = /Java version: (\d+)(?:\.(\d+))?/.exec(output) ??
    /version "(\d+)(?:\.(\d+))?[^"]*"/.exec(output);
  if (!m) return undefined;
  const first = Number(m[1]);
  return first === 1 && m[2] !== undefined ? Number(m[2]) : first;
}

/** Options of {@linkcode ensureStreamsPeer}; the defaults are what the bench uses. */
export interface StreamsPeerBuildOptions {
  /** Progress lines (the first build takes a while). */
  log?: (line: string) => void;
  /** Default `java`. */
  java?: string;
  /** Default `mvn`. */
  mvn?: string;
  /** Default `.cache/streams-peer` at the repository root. */
  cacheDir?: string;
}

/** The peer's classpath (its jar, then `lib/*`), building it first when needed. */
export async function ensureStreamsPeer(options: StreamsPeerBuildOptions = {}): Promise<string> {
  const mvn = options.mvn ?? "mvn";
  const cacheDir = options.cacheDir ?? CACHE_DIR;
  await requireJava(options.java ?? "java");
  const dir = join(cacheDir, await sourceDigest());
  const classpath = `${join(dir, "streams-peer.jar")}:${join(dir, "lib")}/*`;
  if (await exists(join(dir, "built.json"))) return classpath;
  await requireMaven(mvn);
  await Deno.mkdir(cacheDir, { recursive: true });
  // Build into a private folder and rename it, so an interrupted build never leaves a
  // half-filled folder behind a valid marker.
  const staging = await Deno.makeTempDir({ dir: cacheDir, prefix: "staging-" });
  options.log?.(`building the Kafka Streams peer (Kafka ${KAFKA_VERSION}) with Maven into ${dir}`);
  try {
    const out = await new Deno.Command(mvn, {
      args: [
        "--batch-mode",
        "--no-transfer-progress",
        "-f",
        join(SOURCE_DIR, "pom.xml"),
        `-Dkafka.version=${KAFKA_VERSION}`,
        `-Dpeer.buildDir=${staging}`,
        "package",
      ],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!out.success) {
      const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
      throw new StreamsPeerBuildError(
        `Cannot build the Kafka Streams peer: Maven exited with code ${out.code} ` +
          `(is Maven Central reachable?):\n${text.trimEnd().split("\n").slice(-25).join("\n")}`,
      );
    }
    await Deno.remove(join(staging, "target"), { recursive: true });
    await Deno.writeTextFile(join(staging, "built.json"), JSON.stringify({ KAFKA_VERSION }) + "\n");
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    await Deno.rename(staging, dir);
  } finally {
    await Deno.remove(staging, { recursive: true }).catch(() => {});
  }
  return classpath;
}

/** Hex SHA-256 (first 16 characters) of the Kafka version and every source file. */
async function sourceDigest(): Promise<string> {
  const files: string[] = [];
  const walk = async (dir: string) => {
    for await (const entry of Deno.readDir(dir)) {
      const path = join(dir, entry.name);
      if (entry.isDirectory) await walk(path);
      else files.push(path);
    }
  };
  await walk(SOURCE_DIR);
  const parts: Uint8Array[] = [new TextEncoder().encode(KAFKA_VERSION)];
  for (const path of files.sort()) {
    parts.push(new TextEncoder().encode(`\0${relative(SOURCE_DIR, path)}\0`));
    parts.push(await Deno.readFile(path));
  }
  const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  parts.reduce((at, p) => (all.set(p, at), at + p.length), 0);
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", all));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("").slice(0, 16);
}

async function requireJava(java: string): Promise<void> {
  const output = await versionOutput(java, ["-version"]);
  if (output === undefined) {
    throw new StreamsPeerBuildError(
      `The Kafka Streams peer needs a Java 17+ runtime, but \`${java}\` is not on PATH; ` +
        `${INSTALL_HINT}.`,
    );
  }
  const major = javaMajorVersion(output);
  if (major === undefined || major < 17) {
    throw new StreamsPeerBuildError(
      `The Kafka Streams peer needs Java 17 or newer, but \`${java} -version\` reports ` +
        `${major ?? "an unknown version"}; ${INSTALL_HINT}.`,
    );
  }
}

async function requireMaven(mvn: string): Promise<void> {
  const output = await versionOutput(mvn, ["--version"]);
  if (output === undefined) {
    throw new StreamsPeerBuildError(
      `The Kafka Streams peer is built with Maven, but \`${mvn}\` is not on PATH; ` +
        `${INSTALL_HINT}.`,
    );
  }
  const major = javaMajorVersion(output);
  if (major !== undefined && major < 17) {
    throw new StreamsPeerBuildError(
      `Maven runs on Java ${major}; the Kafka Streams peer compiles for Java 17 ` +
        `(set JAVA_HOME to a JDK 17+); ${INSTALL_HINT}.`,
    );
  }
}

/** The output of a version command; undefined when the binary is missing or fails. */
async function versionOutput(cmd: string, args: string[]): Promise<string | undefined> {
  try {
    const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
    if (!out.success) return undefined;
    // `java -version` writes to stderr, `mvn --version` to stdout.
    return new TextDecoder().decode(out.stderr) + new TextDecoder().decode(out.stdout);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}
