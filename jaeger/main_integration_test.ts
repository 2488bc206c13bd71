import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { freePort } from "@payments/kafka/ports";
import { withTimeout } from "@payments/testing/wait";
import { ensureJaeger, JAEGER_VERSION } from "./build.ts";

const MAIN = fileURLToPath(new URL("./main.ts", import.meta.url));

function runMain(args: string[], env: Record<string, string> = {}) {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args],
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  });
}

Deno.test("deno task jaeger prints a ready line, serves the given ports and stops on SIGTERM with exit 0", async () => {
  await ensureJaeger(); // built here, so the task's own output has no build line
  const dataDir = await Deno.makeTempDir({ prefix: "payments-jaeger-cli-" });
  const [grpc, http, query, queryGrpc] = [freePort(), freePort(), freePort(), freePort()];
  const child = runMain(
    ["--otlp-grpc-port", `${grpc}`, "--query-port", `${query}`, "--data-dir", dataDir],
    { JAEGER_OTLP_HTTP_PORT: `${http}`, JAEGER_QUERY_GRPC_PORT: `${queryGrpc}` },
  ).spawn();
  try {
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    const lines = await readLines(reader, 2, 30_000);
    assert.equal(
      lines[0],
      `Jaeger ${JAEGER_VERSION} ready: OTLP http://127.0.0.1:${http} (HTTP) and ` +
        `http://127.0.0.1:${grpc} (gRPC), query API http://127.0.0.1:${query}/api/services ` +
        `(log: ${dataDir}/jaeger.log)`,
    );
    assert.match(lines[1]!, new RegExp(`OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:${http};`));
    const services = await fetch(`http://127.0.0.1:${query}/api/services`);
    assert.deepEqual((await services.json()).data, null, "no service has sent spans yet");

    child.kill("SIGTERM");
    const status = await withTimeout(child.status, 20_000, "stopping deno task jaeger");
    assert.equal(status.code, 0);
    assert.equal(new TextDecoder().decode(await readAll(child.stderr)), "");
    // Jaeger itself is gone, not orphaned: its ports can be bound again.
    for (const port of [grpc, http, query, queryGrpc]) {
      Deno.listen({ hostname: "127.0.0.1", port }).close();
    }
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

Deno.test("deno task jaeger refuses a port in use with one sentence naming it, exit 1", async () => {
  using taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (taken.addr as Deno.NetAddr).port;
  const out = await runMain(["--otlp-http-port", `${port}`]).output();
  assert.equal(out.code, 1);
  assert.equal(
    new TextDecoder().decode(out.stderr),
    `Cannot start Jaeger: its otlpHttp port ${port} on 127.0.0.1 is already in use ` +
      "(another Jaeger running?); stop that process or choose another port\n",
  );
});

Deno.test("deno task jaeger fails with one sentence and exit 1 on a bad port", async () => {
  const out = await runMain(["--query-port", "99999"]).output();
  assert.equal(out.code, 1);
  assert.equal(
    new TextDecoder().decode(out.stderr),
    'JAEGER_QUERY_PORT must be a TCP port (1-65535), got "99999"\n',
  );
});

async function readLines(
  reader: ReadableStreamDefaultReader<string>,
  count: number,
  timeoutMs: number,
): Promise<string[]> {
  let text = "";
  await withTimeout(
    (async () => {
      while (text.split("\n").length <= count) {
        const { value, done } = await reader.read();
        if (done) break;
        text += value;
      }
    })(),
    timeoutMs,
    "waiting for the ready line",
  );
  return text.split("\n").slice(0, count);
}

async function readAll(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  return new Uint8Array(await new Response(stream).arrayBuffer());
}
