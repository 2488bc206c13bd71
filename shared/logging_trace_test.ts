import assert from "node:assert/strict";
import { getLogger, type LogRecord, type Sink, withContext } from "@logtape/logtape";
import { otelEnabled, rerunUnderOtel } from "@payments/testing/otel_rerun";
import { configureLogging, formatJsonLine, getPrettyFormatter, withTraceIds } from "./logging.ts";
import { pipelineTracer, traceIds } from "./tracing.ts";

/** Logging configured to collect records; the JSON line of each. */
async function collect() {
  const records: LogRecord[] = [];
  const logging = await configureLogging(
    { level: "debug", format: "json" },
    { stdout: false, extraSink: (record) => records.push(record) },
  );
  const lines = () => records.map((record) => JSON.parse(formatJsonLine(record)));
  return { logging, lines };
}

Deno.test("withTraceIds keeps the inner sink's disposal, so a buffering sink is still flushed", async () => {
  let disposed = 0;
  const inner = Object.assign((_: LogRecord) => {}, {
    [Symbol.asyncDispose]: () => {
      disposed++;
      return Promise.resolve();
    },
  }) as Sink & AsyncDisposable;
  const wrapped = withTraceIds(inner);
  await wrapped[Symbol.asyncDispose]();
  assert.equal(disposed, 1);
});

if (!otelEnabled()) {
  Deno.test("without OTEL_DENO a line has no trace or span id", async () => {
    const { logging, lines } = await collect();
    await using _ = logging;
    pipelineTracer().startActiveSpan("outer", (span) => {
      getLogger(["t"]).info("inside a span");
      span.end();
    });
    assert.equal(lines()[0].trace_id, undefined);
    assert.equal(lines()[0].span_id, undefined);
  });

  Deno.test(
    "log lines join traces under OTEL_DENO=true (this file again)",
    rerunUnderOtel(import.meta.url, 4),
  );
} else {
  Deno.test("a line logged in a span carries that span's ids, also after an await; none outside", async () => {
    const { logging, lines } = await collect();
    await using _ = logging;
    let ids;
    await pipelineTracer().startActiveSpan("handle request", async (span) => {
      ids = traceIds(span);
      await withContext({ correlation_id: "c-1" }, async () => {
        await new Promise((resolve) => setTimeout(resolve, 1));
        getLogger(["t"]).info("inside");
      });
      span.end();
    });
    getLogger(["t"]).info("outside");
    const [inside, outside] = lines();
    assert.deepEqual(
      { trace_id: inside.trace_id, span_id: inside.span_id, cid: inside.correlation_id },
      { ...ids!, cid: "c-1" },
    );
    assert.match(inside.trace_id, /^[0-9a-f]{32}$/);
    assert.equal(outside.trace_id, undefined);
  });

  Deno.test("ids a record carries (a payment's span) win over the span active around it", async () => {
    const { logging, lines } = await collect();
    await using _ = logging;
    const payment = pipelineTracer().startSpan("process payment");
    const own = traceIds(payment)!;
    pipelineTracer().startActiveSpan("process chunk", (chunk) => {
      withContext({ ...own }, () => getLogger(["t"]).info("payment decided"));
      chunk.end();
    });
    payment.end();
    assert.deepEqual([lines()[0].trace_id, lines()[0].span_id], [own.trace_id, own.span_id]);
  });

  Deno.test("the pretty line shows the first 8 characters of the trace id", async () => {
    const records: LogRecord[] = [];
    await using _ = await configureLogging(
      { level: "debug", format: "pretty" },
      { stdout: false, extraSink: (record) => records.push(record) },
    );
    let traceId = "";
    pipelineTracer().startActiveSpan("handle", (span) => {
      traceId = span.spanContext().traceId;
      getLogger(["t"]).info("accepted");
      span.end();
    });
    const line = getPrettyFormatter({ color: false })(records[0]!);
    assert.match(line, new RegExp(`accepted tid=${traceId.slice(0, 8)}\\n$`));
  });
}
