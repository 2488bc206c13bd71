import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { freePort } from "@payments/testing/brokers";
import { withTimeout } from "@payments/testing/wait";

const MAIN = fileURLToPath(new URL("./main.ts", import.meta.url));

Deno.test("deno task kafka prints one ready line and exits 0 on SIGTERM", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "payments-kafka-cli-" });
  const port = freePort();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN],
    env: { KAFKA_PORT: String(port), KAFKA_DATA_DIR: dataDir, TOPIC_PAYMENT_DLQ: "dead_letters" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  try {
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    const stdout = await readFirstLine(reader, 90_000, "waiting for the ready line");
    assert.equal(
      stdout,
      `Kafka ready on localhost:${port} (data: ${dataDir}, ` +
        "topics: payment_requests, payment_results, dead_letters, payment_decisions, " +
        "payment_requests.by_customer, payment_decisions.by_customer)\n",
    );
    child.kill("SIGTERM");
    const status = await withTimeout(child.status, 30_000, "stopping the CLI");
    assert.equal(status.code, 0);
    const rest = await reader.read();
    assert.equal(rest.done, true, "nothing after the ready line");
    assert.equal(new TextDecoder().decode(await readAll(child.stderr)), "");
  } finally {
    try {
      child.kill("SIGKILL");
    } catch { /* already exited */ }
    await child.status;
    await child.stderr.cancel().catch(() => {});
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("deno task kafka -- --nodes 3 runs a 3-node cluster that kcat sees, and stops on SIGTERM", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "payments-kafka-cli-" });
  // Three consecutive free ports: probe a base until all three can be bound.
  const port = consecutiveFreePorts(3);
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, "--nodes", "3", "--port", String(port), "--data-dir", dataDir],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  try {
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    const stdout = await readFirstLine(reader, 120_000, "waiting for the cluster's ready line");
    const addresses = [0, 1, 2].map((i) => `localhost:${port + i}`).join(",");
    assert.equal(
      stdout,
      `Kafka cluster of 3 nodes ready on ${addresses} (data: ${dataDir}, ` +
        "topics: payment_requests, payment_results, payment_requests.dlq, payment_decisions, " +
        "payment_requests.by_customer, payment_decisions.by_customer)\n",
    );
    const kcat = await new Deno.Command("kcat", {
      args: ["-b", `127.0.0.1:${port}`, "-L", "-J"],
      stdout: "piped",
    }).output();
    const metadata = JSON.parse(new TextDecoder().decode(kcat.stdout)) as {
      brokers: unknown[];
      topics: { topic: string; partitions: { replicas: unknown[] }[] }[];
    };
    assert.equal(metadata.brokers.length, 3);
    const requests = metadata.topics.find((t) => t.topic === "payment_requests");
    assert.ok(requests?.partitions.every((p) => p.replicas.length === 3));
    child.kill("SIGTERM");
    const status = await withTimeout(child.status, 60_000, "stopping the cluster CLI");
    assert.equal(status.code, 0);
    await reader.cancel();
  } finally {
    try {
      child.kill("SIGKILL");
    } catch { /* already exited */ }
    await child.status;
    await child.stderr.cancel().catch(() => {});
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("deno task kafka fails with one sentence and exit 1 on a bad port", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, "--port", "99999"],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 1);
  assert.equal(
    new TextDecoder().decode(out.stderr),
    'KAFKA_PORT / --port must be a TCP port (1-65535), got "99999"\n',
  );
});

function consecutiveFreePorts(count: number): number {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = freePort();
    const held: Deno.Listener[] = [];
    try {
      for (let i = 0; i < count; i++) {
        held.push(Deno.listen({ hostname: "127.0.0.1", port: base + i }));
      }
      return base;
    } catch {
      // one of them is taken: try another base
    } finally {
      for (const l of held) l.close();
    }
  }
  throw new Error(`no ${count} consecutive free ports found`);
}

async function readAll(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** What the CLI printed up to its first newline (its ready line), bounded in time. */
async function readFirstLine(
  reader: ReadableStreamDefaultReader<string>,
  timeoutMs: number,
  what: string,
): Promise<string> {
  let text = "";
  await withTimeout(
    (async () => {
      while (!text.includes("\n")) {
        const { value, done } = await reader.read();
        if (done) break;
        text += value;
      }
    })(),
    timeoutMs,
    what,
  );
  return text;
}
