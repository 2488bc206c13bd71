import assert from "node:assert/strict";
import { CHILD_OPTIONS, createSupervisor, isWatcherFinished } from "./dev_processes.ts";
import { createDevOutput } from "./prefixed.ts";

Deno.test("only a clean end of a watched program counts as a service stopped on its own", () => {
  assert.ok(isWatcherFinished("Watcher Process finished. Restarting on file change..."));
  assert.ok(
    isWatcherFinished(
      "\x1b[38;5;12mWatcher\x1b[0m Process finished. Restarting on file change...",
    ),
  );
  for (
    const line of [
      "Watcher Process finished with exit code 1. Restarting on file change...",
      "Watcher Process failed. Restarting on file change...",
      "Watcher Process started.",
      "Watcher Waiting for graceful termination...",
    ]
  ) {
    assert.equal(isWatcherFinished(line), false, line);
  }
});

class Exit extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

/** A child that says which signal it got and when, then ends after `ms`. */
function child(name: string, ms: number) {
  const script = `
    const signals = ["SIGINT", "SIGTERM"];
    for (const s of signals) Deno.addSignalListener(s, () => {
      console.log("${name} got " + s);
      setTimeout(() => { console.log("${name} done"); Deno.exit(0); }, ${ms});
    });
    console.log("${name} up");
    setInterval(() => {}, 1000);`;
  return new Deno.Command(Deno.execPath(), { args: ["eval", script], ...CHILD_OPTIONS });
}

Deno.test("the services stop first (SIGINT), auxiliaries beside them (SIGTERM), the broker last", async () => {
  const written: string[] = [];
  const output = createDevOutput({ json: false, write: (text) => written.push(text.trim()) });
  const processes = createSupervisor({
    output,
    exit: (code) => {
      throw new Exit(code);
    },
  });
  const up = (name: string) => {
    const { promise, resolve } = Promise.withResolvers<void>();
    return { promise, onLine: (line: string) => line === `${name} up` && resolve() };
  };
  const ups = ["broker", "service", "aux"].map(up);
  processes.spawn("kafka", "broker", child("broker", 0), {
    onLine: ups[0]!.onLine,
    stoppedNote: "log: b.log",
  });
  processes.spawn("producer", "service", child("service", 300), { onLine: ups[1]!.onLine });
  processes.spawn("prometheus", "auxiliary", child("aux", 0), { onLine: ups[2]!.onLine });
  await Promise.all(ups.map((u) => u.promise));
  await assert.rejects(processes.stopAll(0), (error) => error instanceof Exit && error.code === 0);
  assert.ok(processes.stopping);
  const at = (line: string) => written.indexOf(line);
  assert.ok(at("[producer]   service got SIGINT") >= 0, written.join("\n"));
  assert.ok(at("[prometheus] aux got SIGTERM") >= 0, written.join("\n"));
  assert.ok(at("[producer]   service done") < at("[kafka]      broker got SIGTERM"));
  assert.equal(written.at(-1), "[kafka]      broker stopped (exit code 0); log: b.log");
});
