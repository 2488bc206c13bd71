import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { freePort } from "@payments/testing/brokers";
import { withTimeout } from "@payments/testing/wait";
import { spawnGuarded } from "./process.ts";

const FIXTURE = fileURLToPath(new URL("./testdata/start_broker.ts", import.meta.url));

/** True while `pid` is a live (not zombie) process. */
async function alive(pid: number): Promise<boolean> {
  try {
    const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
    // The state letter follows the parenthesised command name.
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

/** Resolves once `file` contains `text`; the guarded child starts asynchronously. */
async function waitForText(file: string, text: string): Promise<void> {
  await withTimeout(
    (async () => {
      while (!(await Deno.readTextFile(file)).includes(text)) {
        await new Promise((r) => setTimeout(r, 20));
      }
    })(),
    5_000,
    `waiting for "${text}" in ${file}`,
  );
}

async function waitUntilGone(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (!await alive(pid)) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return !await alive(pid);
}

Deno.test("SIGKILL of the Deno process that launched a broker leaves no JVM behind", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "payments-kafka-orphan-" });
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", FIXTURE, dataDir, String(freePort())],
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  let javaPid: number | undefined;
  try {
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let line = "";
    await withTimeout(
      (async () => {
        while (!line.includes("\n")) {
          const { value, done } = await reader.read();
          if (done) throw new Error("the fixture exited before printing the broker pid");
          line += value;
        }
      })(),
      90_000,
      "starting the broker in a child Deno process",
    );
    await reader.cancel();
    javaPid = (JSON.parse(line) as { pid: number }).pid;
    const cmdline = await Deno.readTextFile(`/proc/${javaPid}/cmdline`);
    assert.match(cmdline, /kafka\.Kafka/, "the printed pid is not the broker JVM");

    child.kill("SIGKILL");
    assert.equal((await child.status).signal, "SIGKILL");
    assert.ok(
      await waitUntilGone(javaPid, 15_000),
      `broker JVM ${javaPid} outlived its Deno parent`,
    );
  } finally {
    try {
      child.kill("SIGKILL");
    } catch { /* already dead */ }
    await child.status;
    // Never leave a JVM behind, even when the assertion above failed.
    if (javaPid !== undefined && await alive(javaPid)) Deno.kill(javaPid, "SIGKILL");
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("spawnGuarded reports the child's pid and exit code and stops it with SIGTERM", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const logFile = `${dir}/out.log`;
    const proc = await spawnGuarded("sh", ["-c", "echo started; exec sleep 30"], { logFile });
    assert.ok(await alive(proc.pid));
    assert.equal(proc.hasExited, false);
    await waitForText(logFile, "started");
    const code = await withTimeout(proc.stop(5_000), 10_000, "stopping sleep");
    assert.equal(code, 143, "128 + SIGTERM");
    assert.equal(proc.hasExited, true);
    assert.equal(await alive(proc.pid), false);
    // The wrapper shell adds its own note ("Terminated") after the child's output.
    assert.match(await Deno.readTextFile(logFile), /^started\n/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("spawnGuarded escalates to SIGKILL when SIGTERM is ignored", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const logFile = `${dir}/out.log`;
    const script = "trap '' TERM; echo trapped; while :; do sleep 0.1; done";
    const proc = await spawnGuarded("sh", ["-c", script], { logFile });
    // SIGTERM must arrive after the trap is set, or the test proves nothing.
    await waitForText(logFile, "trapped");
    const code = await withTimeout(proc.stop(500), 10_000, "stopping a TERM-ignoring process");
    assert.equal(code, 137, "128 + SIGKILL");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("spawnGuarded resolves exited when the child exits on its own", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const proc = await spawnGuarded("sh", ["-c", "exit 3"], { logFile: `${dir}/out.log` });
    assert.equal(await withTimeout(proc.exited, 5_000, "a short-lived child"), 3);
    assert.equal(await proc.stop(), 3);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
