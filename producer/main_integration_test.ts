import assert from "node:assert/strict";
import { freePort } from "@payments/kafka/harness";

const MAIN = new URL("./main.ts", import.meta.url).pathname;

Deno.test("a taken PRODUCER_PORT stops the producer with one sentence, not a stack trace", async () => {
  const taken = Deno.listen({ hostname: "0.0.0.0", port: 0 });
  try {
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", MAIN],
      env: {
        PRODUCER_PORT: String(taken.addr.port),
        KAFKA_BROKERS: `127.0.0.1:${freePort()}`,
        LAG_MONITOR_ENABLED: "false",
        LOG_LEVEL: "fatal",
      },
      stdout: "null",
      stderr: "piped",
    }).output();
    assert.equal(output.code, 1);
    assert.equal(
      new TextDecoder().decode(output.stderr).trim(),
      `Cannot listen on port ${taken.addr.port} (PRODUCER_PORT): another process is listening there`,
    );
  } finally {
    taken.close();
  }
});

Deno.test("invalid configuration stops the producer with one message naming every bad variable", async () => {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN],
    env: { PRODUCER_PORT: "99999", API_KEYS: "", PRODUCER_SEND_TIMEOUT_MS: "soon" },
    stdout: "null",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(output.stderr).trim();
  assert.equal(output.code, 2);
  assert.equal(stderr.split("\n").length, 1, stderr);
  assert.match(stderr, /PRODUCER_PORT/);
  assert.match(stderr, /PRODUCER_SEND_TIMEOUT_MS/);
});
