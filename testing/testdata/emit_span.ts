// deno-lint-ignore-file no-console
/**
 * Run with `OTEL_DENO=true`: creates a span `parent` with a child `child`, both with the
 * attribute `test.run` = the first argument, prints the trace id and exits (Deno exports
 * what is left on exit). Used to prove a test Jaeger receives spans and answers them.
 *
 * @module
 */
import { trace } from "@opentelemetry/api";

const run = Deno.args[0] ?? "unnamed";
const tracer = trace.getTracer("payments-testing");
tracer.startActiveSpan("parent", { attributes: { "test.run": run } }, (parent) => {
  tracer.startSpan("child", { attributes: { "test.run": run } }).end();
  parent.end();
  console.log(parent.spanContext().traceId);
});
