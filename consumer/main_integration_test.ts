import assert from "node:assert/strict";
import { freePort } from "@payments/testing/brokers";
import { startService } from "@payments/testing/services";

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
  // Answers /health whatever its status, without waiting for a /ready that never comes.
  const consumer = await startService("consumer", {
    waitReady: false,
    env: {
      KAFKA_BROKERS: `127.0.0.1:${freePort()}`,
      KAFKA_CONNECTION_TIMEOUT_MS: "300",
      LOG_LEVEL: "warning",
    },
  });
  const stdout = () => consumer.lines().join("\n");
  let code: number;
  try {
    assert.equal(await get(`${consumer.url}/health`), 200);
    assert.equal(await get(`${consumer.url}/ready`), 503);
    // kafkajs gives up one attempt after its own retries (about 20 s by default); the
    // consumer must then say why and keep going rather than exit.
    const deadline = Date.now() + 45_000;
    while (!/Cannot start consuming/.test(stdout()) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    assert.match(stdout(), /Cannot start consuming \(.*ECONNREFUSED.*\); retrying in \d+ ms/);
    assert.equal(await get(`${consumer.url}/health`), 200);
    assert.equal(await get(`${consumer.url}/ready`), 503);
  } finally {
    code = await consumer.stop(30_000);
  }
  assert.equal(code, 0, consumer.tail());
});
