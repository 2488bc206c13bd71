/**
 * Resolves the Apache Kafka jars from Maven Central once per version into a git-ignored
 * cache (`.cache/kafka/<version>/lib` at the repository root); later calls only read a
 * marker file and never start Maven.
 *
 * @module
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { checkMaven } from "./java.ts";
import { KafkaLauncherError } from "./errors.ts";

/** The Kafka version the project runs; kafka/pom.xml carries the matching log4j version. */
export const KAFKA_VERSION = "4.1.1";

/** Where kafka/pom.xml lives. */
export const POM_PATH: string = fileURLToPath(new URL("./pom.xml", import.meta.url));

/** The default jar cache: `.cache/kafka` at the repository root. */
export const DEFAULT_CACHE_DIR: string = fileURLToPath(new URL("../.cache/kafka", import.meta.url));

/** Options of {@linkcode ensureKafkaJars}. */
export interface KafkaJarsOptions {
  /** Kafka version (default {@linkcode KAFKA_VERSION}); the pom's binding fits 4.0 to 4.2. */
  version?: string;
  /** Cache root (default {@linkcode DEFAULT_CACHE_DIR}). */
  cacheDir?: string;
  /** Show Maven's progress on stderr while resolving (default true). */
  progress?: boolean;
  /** Maven binary (default `mvn`). */
  mvn?: string;
}

/** Returns the directory holding every jar of the broker, resolving it first when needed. */
export async function ensureKafkaJars(options: KafkaJarsOptions = {}): Promise<string> {
  const version = options.version ?? KAFKA_VERSION;
  const versionDir = join(options.cacheDir ?? DEFAULT_CACHE_DIR, version);
  const libDir = join(versionDir, "lib");
  const marker = join(versionDir, "resolved.json");
  // The pom's digest is in the marker so editing the pom re-resolves.
  const pomDigest = await sha256(await Deno.readFile(POM_PATH));
  if (await readMarker(marker) === pomDigest) return libDir;

  const mvn = options.mvn ?? "mvn";
  await checkMaven(mvn);
  await Deno.mkdir(versionDir, { recursive: true });
  // Resolve into a private directory and rename it, so a concurrent or interrupted run
  // never leaves a half-filled lib/ behind a valid marker.
  const staging = await Deno.makeTempDir({ dir: versionDir, prefix: "lib.staging-" });
  const progress = options.progress ?? true;
  if (progress) {
    writeErr(`Resolving Apache Kafka ${version} jars with Maven into ${libDir} (first run only)\n`);
  }
  try {
    const out = await new Deno.Command(mvn, {
      args: [
        "--batch-mode",
        "--no-transfer-progress",
        "-f",
        POM_PATH,
        `-Dkafka.version=${version}`,
        "dependency:copy-dependencies",
        `-DoutputDirectory=${staging}`,
      ],
      stdin: "null",
      stdout: progress ? "inherit" : "piped",
      stderr: progress ? "inherit" : "piped",
    }).output();
    if (!out.success) {
      const detail = progress ? "see Maven's output above" : tail(out.stdout, 20);
      throw new KafkaLauncherError(
        `Cannot resolve Apache Kafka ${version} jars: Maven failed with exit code ${out.code} ` +
          `(is Maven Central reachable?); ${detail}`,
      );
    }
    await Deno.remove(libDir, { recursive: true }).catch(ignoreNotFound);
    await Deno.rename(staging, libDir);
    await Deno.writeTextFile(marker, JSON.stringify({ version, pomDigest }) + "\n");
  } finally {
    await Deno.remove(staging, { recursive: true }).catch(ignoreNotFound);
  }
  return libDir;
}

async function readMarker(path: string): Promise<string | undefined> {
  try {
    const parsed = JSON.parse(await Deno.readTextFile(path)) as { pomDigest?: unknown };
    return typeof parsed.pomDigest === "string" ? parsed.pomDigest : undefined;
  } catch {
    return undefined;
  }
}

async function sha256(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

function tail(bytes: Uint8Array, lines: number): string {
  return new TextDecoder().decode(bytes).trimEnd().split("\n").slice(-lines).join("\n");
}

function writeErr(text: string): void {
  Deno.stderr.writeSync(new TextEncoder().encode(text));
}

function ignoreNotFound(error: unknown): void {
  if (!(error instanceof Deno.errors.NotFound)) throw error;
}
