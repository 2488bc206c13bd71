import assert from "node:assert/strict";
import { freePort } from "@payments/kafka/harness";

const MAIN = new URL("./main.ts", import.meta.url).pathname;

function spawn(env: Record<string, string>): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN],
    env: { LOG_LEVEL: "warning", NO_COLOR: "1", ...env },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

async function get(url: string): Promise<number | undefined> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
    await response.body?.cancel();
    return response.status;
  } catch {
    return undefined;
  }
}

Deno.test("with Kafka unreachable the consumer stays up, /ready is 503, says why, and SIGTERM exits 0", async () => {
  const port = freePort();
  const child = spawn({
    KAFKA_BROKERS: `127.0.0.1:${freePort()}`,
    KAFKA_CONNECTION_TIMEOUT_MS: "300",
    CONSUMER_PORT: String(port),
  });
  const stderr = new Response(child.stderr).text();
  let stdout = "";
  const reading = (async () => {
    for await (const text of child.stdout.pipeThrough(new TextDecoderStream())) stdout += text;
  })();
  try {
    let health: number | undefined;
    for (let i = 0; i < 100 && health !== 200; i++) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      health = await get(`http://127.0.0.1:${port}/health`);
    }
    assert.equal(health, 200);
    assert.equal(await get(`http://127.0.0.1:${port}/ready`), 503);
    // kafkajs gives up one attempt after its own retries (about 20 s by default); the
    // consumer must then say why and keep going rather than exit.
    const deadline = Date.now() + 45_000;
    while (!/Cannot start consuming/.test(stdout) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    assert.match(stdout, /Cannot start consuming \(.*ECONNREFUSED.*\); retrying in \d+ ms/);
    assert.equal(await get(`http://127.0.0.1:${port}/health`), 200);
    assert.equal(await get(`http://127.0.0.1:${port}/ready`), 503);
  } finally {
    child.kill("SIGTERM");
  }
  const status = await child.status;
  await reading;
  assert.equal(status.code, 0, await stderr);
});
