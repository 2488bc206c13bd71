import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { parentSpanId, serviceOf, startTestJaeger, tagValue } from "./jaeger.ts";

const EMIT_SPAN = fileURLToPath(new URL("./testdata/emit_span.ts", import.meta.url));

/** Runs testdata/emit_span.ts exporting to `env`'s Jaeger; resolves with its trace id. */
async function emitSpan(env: Record<string, string>, run: string): Promise<string> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", EMIT_SPAN, run],
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.ok(out.success, `emit_span.ts failed: ${stderr}`);
  assert.equal(stderr, "", "an export to a listening Jaeger prints nothing");
  return new TextDecoder().decode(out.stdout).trim();
}

Deno.test("a span a Deno process exports over OTLP/HTTP is found through the test Jaeger's query API", async () => {
  await using jaeger = await startTestJaeger();
  const run = crypto.randomUUID();
  const service = `emit-span-${run.slice(0, 8)}`;
  const traceId = await emitSpan(jaeger.otelEnv(service), run);
  assert.match(traceId, /^[0-9a-f]{32}$/);

  const [found] = await jaeger.query.waitForTraces(
    { service, tags: { "test.run": run } },
    (traces) => traces.some((t) => t.spans.length === 2),
    { what: "the emitted trace with both spans" },
  );
  assert.equal(found!.traceID, traceId);
  assert.deepEqual(await jaeger.query.services(), [service]);

  const trace = await jaeger.query.trace(traceId);
  const parent = trace!.spans.find((s) => s.operationName === "parent")!;
  const child = trace!.spans.find((s) => s.operationName === "child")!;
  assert.equal(serviceOf(trace!, parent), service);
  assert.equal(tagValue(child, "test.run"), run);
  assert.equal(parentSpanId(child), parent.spanID);
  assert.equal(parentSpanId(parent), undefined);

  const otherRun = await jaeger.query.findTraces({ service, tags: { "test.run": "other" } });
  assert.deepEqual(otherRun, [], "a tag search matches on the value");
  assert.equal(await jaeger.query.trace("0123456789abcdef0123456789abcdef"), undefined);
});

Deno.test("waiting for a trace that never comes fails naming it and Jaeger's last answer", async () => {
  await using jaeger = await startTestJaeger();
  await assert.rejects(
    jaeger.query.waitForTrace("0123456789abcdef0123456789abcdef", undefined, {
      timeoutMs: 300,
      what: "a trace nobody sent",
    }),
    /a trace nobody sent: not reached within 300 ms\nlast answer: no such trace/,
  );
});
