/**
 * What `deno task dev` and `deno task test` need besides Deno, declared once: for each
 * prerequisite, why it is needed, which tasks need it, how to tell it is there and how
 * to install it. A missing one is installed when it can be (Debian packages as root or
 * with passwordless sudo, `apt-get update` first; Python packages with pip), one line
 * each saying what and why; when it cannot, the task stops with the one command that
 * would. Nothing is ever skipped silently.
 *
 * A new prerequisite is one entry in {@linkcode PREREQUISITES}; a new way to install
 * is one {@linkcode Installer} kind and its case in `install_plan.ts`.
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { jaegerBinaryPath } from "@payments/jaeger/build";

/** The tasks that install what they need. */
export type Purpose = "dev" | "test";

/** How a prerequisite is installed. */
export type Installer =
  | { kind: "debian"; packages: readonly string[] }
  /** `python3 -m pip install <requirement>`; needs the `pip` prerequisite first. */
  | { kind: "pip"; requirement: string }
  /**
   * A command of this project that builds it, run after the packages (it may need one of
   * them) and needing no privilege; `command` is how a person types it.
   */
  | { kind: "build"; argv: readonly string[]; command: string };

/** One thing a task needs that is not Deno. */
export interface Prerequisite {
  /** How the lines name it: a command, or a Python module. */
  name: string;
  /** Why it is needed, said when it is installed. */
  why: string;
  /** The tasks that need it. */
  for: readonly Purpose[];
  /** A command that succeeds when it is there. */
  check: readonly string[];
  install: Installer;
}

const debian = (...packages: string[]): Installer => ({ kind: "debian", packages });

/**
 * Succeeds when the Jaeger binary of the pinned version is built (the cache directory
 * cannot be found without HOME: then it is missing, and building it says why).
 */
function jaegerBuilt(): string[] {
  try {
    return ["test", "-x", jaegerBinaryPath()];
  } catch {
    return ["false"];
  }
}

/** Everything `deno task dev` and `deno task test` need besides Deno. */
export const PREREQUISITES: readonly Prerequisite[] = [
  {
    name: "java",
    why: "the local Kafka broker runs on a JDK (17 or later)",
    for: ["dev", "test"],
    check: ["java", "-version"],
    // Debian's default JDK: 17 on bookworm, 21 on trixie; the broker takes either.
    install: debian("default-jdk-headless"),
  },
  {
    name: "mvn",
    why: "Maven resolves the broker's jars from Maven Central on its first start",
    for: ["dev", "test"],
    check: ["mvn", "-v"],
    install: debian("maven"),
  },
  {
    name: "kcat",
    why: "the tests write and read records with an independent Kafka client",
    for: ["test"],
    check: ["kcat", "-V"],
    install: debian("kcat"),
  },
  {
    name: "prometheus",
    why: "the live tests scrape the services with a real Prometheus (and promtool checks rules)",
    for: ["test"],
    check: ["promtool", "--version"],
    install: debian("prometheus"),
  },
  {
    name: "prometheus-alertmanager",
    why: "the alert routing and delivery tests run a real Alertmanager and amtool",
    for: ["test"],
    check: ["amtool", "--version"],
    install: debian("prometheus-alertmanager"),
  },
  {
    name: "docker-compose",
    why: "compose.yaml is validated with docker-compose config (no Docker engine needed)",
    for: ["test"],
    check: ["docker-compose", "version"],
    install: debian("docker-compose"),
  },
  {
    name: "chromium",
    why: "the /docs page is rendered in headless Chromium",
    for: ["test"],
    check: ["chromium", "--version"],
    install: debian("chromium"),
  },
  {
    name: "pip",
    why: "pip installs the lab's Python Kafka client",
    for: ["test"],
    check: ["python3", "-m", "pip", "--version"],
    install: debian("python3-pip"),
  },
  {
    name: "confluent_kafka",
    why: "the lab's own producer (confluent-kafka, librdkafka) writes records the consumer reads",
    for: ["test"],
    check: ["python3", "-c", "import confluent_kafka"],
    install: { kind: "pip", requirement: "confluent-kafka==2.16.1" },
  },
  {
    name: "go",
    why: "Jaeger is built from the Go module proxy (Go 1.21 or newer fetches the Go release " +
      "Jaeger's go.mod asks for by itself; Debian 12's golang-go is 1.19, too old)",
    for: ["test"],
    check: ["go", "version"],
    install: debian("golang-go"),
  },
  {
    name: "jaeger",
    why: "the tracing tests export spans to a real Jaeger v2, built once per machine into " +
      "~/.cache/payments (about 5 minutes on 2 cores)",
    for: ["test"],
    check: jaegerBuilt(),
    install: {
      kind: "build",
      argv: [
        Deno.execPath(),
        "run",
        "-A",
        fileURLToPath(new URL("../jaeger/main.ts", import.meta.url)),
        "--build",
      ],
      command: "deno task jaeger --build",
    },
  },
];

/** The prerequisites of `purpose`. */
export function prerequisitesFor(
  purpose: Purpose,
  all: readonly Prerequisite[] = PREREQUISITES,
): Prerequisite[] {
  return all.filter((prerequisite) => prerequisite.for.includes(purpose));
}
