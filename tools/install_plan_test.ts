import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { ensurePrerequisites } from "./install_prerequisites.ts";
import { planInstall } from "./install_plan.ts";
import { type Prerequisite, PREREQUISITES, prerequisitesFor } from "./prerequisites.ts";

const byName = (...names: string[]) =>
  names.map((name) => {
    const found = PREREQUISITES.find((p) => p.name === name);
    if (!found) throw new Error(`no prerequisite ${name}`);
    return found;
  });

Deno.test("as root: apt-get update, then one apt-get install of every missing package, then pip", () => {
  const plan = planInstall(byName("kcat", "mvn", "pip", "confluent_kafka"), "root");
  assert.ok(plan.possible);
  assert.deepEqual(plan.steps.map((step) => step.argv), [
    ["env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "update", "-qq"],
    [
      "env",
      "DEBIAN_FRONTEND=noninteractive",
      "apt-get",
      "install",
      "-y",
      "-qq",
      "kcat",
      "maven",
      "python3-pip",
    ],
    [
      "python3",
      "-m",
      "pip",
      "install",
      "--quiet",
      "--break-system-packages",
      "confluent-kafka==2.16.1",
    ],
  ]);
  // Older pips do not know --break-system-packages: the same install without it.
  assert.deepEqual(plan.steps[2]!.orElse, [
    "python3",
    "-m",
    "pip",
    "install",
    "--quiet",
    "confluent-kafka==2.16.1",
  ]);
  assert.deepEqual(plan.lines, [
    "installing kcat (Debian package kcat): the tests write and read records with an independent Kafka client",
    "installing mvn (Debian package maven): Maven resolves the broker's jars from Maven Central on its first start",
    "installing pip (Debian package python3-pip): pip installs the lab's Python Kafka client",
    "installing confluent_kafka (Python package confluent-kafka==2.16.1): the lab's own producer (confluent-kafka, librdkafka) writes records the consumer reads",
  ]);
});

Deno.test("with passwordless sudo: the same apt-get commands through sudo -n; pip for the user", () => {
  const plan = planInstall(byName("java", "confluent_kafka"), "sudo");
  assert.ok(plan.possible);
  assert.deepEqual(plan.steps.map((step) => step.argv.slice(0, 6)), [
    ["sudo", "-n", "env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "update"],
    ["sudo", "-n", "env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "install"],
    ["python3", "-m", "pip", "install", "--quiet", "--user"],
  ]);
  assert.ok(plan.steps[1]!.argv.includes("default-jdk-headless"));
});

Deno.test("neither root nor sudo: nothing runs, the one command that would is given", () => {
  const plan = planInstall(byName("kcat", "chromium", "confluent_kafka"), "none");
  assert.equal(plan.possible, false);
  assert.ok(!plan.possible);
  assert.equal(
    plan.command,
    "sudo apt-get update && sudo apt-get install -y kcat chromium && " +
      "python3 -m pip install --quiet --user --break-system-packages confluent-kafka==2.16.1",
  );
});

Deno.test("neither root nor sudo, only a Python package missing: pip installs it for the user", () => {
  const plan = planInstall(byName("confluent_kafka"), "none");
  assert.ok(plan.possible);
  assert.deepEqual(plan.steps.map((step) => step.argv[5]), ["--user"]);
});

Deno.test("nothing missing, nothing planned; a package two prerequisites share is installed once", () => {
  const none = planInstall([], "root");
  assert.ok(none.possible);
  assert.deepEqual(none.steps, []);
  const twice: Prerequisite[] = [
    { ...byName("kcat")[0]!, name: "a" },
    { ...byName("kcat")[0]!, name: "b" },
  ];
  const plan = planInstall(twice, "root");
  assert.ok(plan.possible);
  assert.deepEqual(plan.steps[1]!.argv.slice(-1), ["kcat"]);
});

Deno.test("dev needs the broker's JDK and Maven; test needs every tool the suite runs", () => {
  assert.deepEqual(prerequisitesFor("dev").map((p) => p.name), ["java", "mvn"]);
  assert.deepEqual(prerequisitesFor("test").map((p) => p.name), [
    "java",
    "mvn",
    "kcat",
    "prometheus",
    "prometheus-alertmanager",
    "docker-compose",
    "chromium",
    "pip",
    "confluent_kafka",
    "go",
    "jaeger",
  ]);
});

Deno.test("Jaeger is built after the packages (it needs Go), with no privilege; without one, the command says both", () => {
  const plan = planInstall(byName("jaeger", "go"), "root");
  assert.ok(plan.possible);
  assert.deepEqual(plan.steps.map((step) => step.argv.slice(-2)), [
    ["update", "-qq"],
    ["-qq", "golang-go"],
    [fileURLToPath(new URL("../jaeger/main.ts", import.meta.url)), "--build"],
  ]);
  assert.equal(plan.steps[2]!.argv[0], Deno.execPath());
  assert.match(plan.lines[0]!, /^building jaeger \(deno task jaeger --build\): the tracing tests/);

  const alone = planInstall(byName("jaeger"), "none");
  assert.ok(alone.possible, "Go is there: building needs no privilege");
  assert.equal(alone.steps.length, 1);
  const both = planInstall(byName("go", "jaeger"), "none");
  assert.ok(!both.possible);
  assert.equal(
    both.command,
    "sudo apt-get update && sudo apt-get install -y golang-go && deno task jaeger --build",
  );
});

const absent: Prerequisite = {
  name: "definitely-not-installed-xyz",
  why: "a test needs it",
  for: ["test"],
  check: ["definitely-not-installed-xyz", "--version"],
  install: { kind: "debian", packages: ["xyz"] },
};
const present: Prerequisite = { ...absent, name: "deno", check: [Deno.execPath(), "--version"] };

Deno.test("a missing prerequisite this user cannot install stops the task with the command", async () => {
  const lines: string[] = [];
  const ok = await ensurePrerequisites("test", {
    say: (line) => lines.push(line),
    privilege: "none",
    prerequisites: [absent, present],
  });
  assert.equal(ok, false);
  assert.deepEqual(lines, [
    "deno task test needs definitely-not-installed-xyz, which this user cannot install " +
    "(not root, no passwordless sudo). Run: sudo apt-get update && sudo apt-get install -y xyz",
  ]);
});

Deno.test("a dry run says what it would install and why, and runs nothing", async () => {
  const lines: string[] = [];
  const ok = await ensurePrerequisites("test", {
    say: (line) => lines.push(line),
    privilege: "root",
    dryRun: true,
    prerequisites: [absent, present],
  });
  assert.equal(ok, true);
  assert.deepEqual(lines, [
    "installing definitely-not-installed-xyz (Debian package xyz): a test needs it",
    "would run: env DEBIAN_FRONTEND=noninteractive apt-get update -qq",
    "would run: env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq xyz",
  ]);
});

Deno.test("everything present: nothing is said and the task goes on", async () => {
  const lines: string[] = [];
  assert.equal(
    await ensurePrerequisites("dev", { say: (l) => lines.push(l), prerequisites: [present] }),
    true,
  );
  assert.deepEqual(lines, []);
});
