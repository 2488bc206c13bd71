/**
 * Checks for the tools the broker needs: a Java 17+ runtime and, to resolve the jars
 * on first use, Maven.
 *
 * @module
 */
import { KafkaLauncherError } from "./errors.ts";

const INSTALL_HINT = "install them with `apt-get install openjdk-17-jdk-headless maven`";

/** Extracts the major version from `java -version` output ("1.8.0_x" is 8, "17.0.2" is 17). */
export function parseJavaMajorVersion(output: string): number | undefined {
  const match = output.match(/version "(\d+)(?:\.(\d+))?[^"]*"/);
  if (!match) return undefined;
  const first = Number(match[1]);
  return first === 1 && match[2] !== undefined ? Number(match[2]) : first;
}

/** Resolves to the Java major version, or throws when `java` is missing or older than 17. */
export async function checkJava(java = "java"): Promise<number> {
  const output = await run(java, ["-version"]);
  if (output === undefined) {
    throw new KafkaLauncherError(
      `Cannot start Kafka: no Java runtime found (\`${java}\` is not on PATH); ${INSTALL_HINT}.`,
    );
  }
  const major = parseJavaMajorVersion(output);
  if (major === undefined || major < 17) {
    throw new KafkaLauncherError(
      `Cannot start Kafka: it needs Java 17 or newer but \`${java} -version\` reports ` +
        `${major ?? "an unknown version"}; ${INSTALL_HINT}.`,
    );
  }
  return major;
}

/** Throws when Maven (`mvn`) is missing; it is only needed while the jars are not cached. */
export async function checkMaven(mvn = "mvn"): Promise<void> {
  if (await run(mvn, ["--version"]) === undefined) {
    throw new KafkaLauncherError(
      `Cannot resolve the Kafka jars: Maven (\`${mvn}\`) is not on PATH; ${INSTALL_HINT}.`,
    );
  }
}

/** Runs a version command; undefined when the binary does not exist or fails. */
async function run(cmd: string, args: string[]): Promise<string | undefined> {
  try {
    const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
    if (!out.success) return undefined;
    const decoder = new TextDecoder();
    // `java -version` writes to stderr, `mvn --version` to stdout.
    return decoder.decode(out.stderr) + decoder.decode(out.stdout);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
}
