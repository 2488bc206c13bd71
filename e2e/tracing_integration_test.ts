/**
 * Traces against the real thing: a broker, both services as subprocesses and a Jaeger,
 * read back through Jaeger's query API. One payment is one trace from its HTTP request
 * to its decision's commit, a batch is one producer trace the payments' spans hang
 * from, the exemplar and the log lines name that trace; sampled at 0 nothing is sent,
 * and with no collector listening nothing fails and nothing is logged at error level.
 */
import assert from "node:assert/strict";
import { freePort, sharedBrokers } from "@payments/testing/brokers";
import {
  type JaegerSpan,
  type JaegerTrace,
  parentSpanId,
  serviceOf,
  startTestJaeger,
  tagValue,
} from "@payments/testing/jaeger";
import { getStatus, postPayment } from "@payments/testing/payment_status";
import { paymentEvent, paymentRequest } from "@payments/testing/payments";
import { produce } from "@payments/testing/produce";
import { type ServiceProcess, startConsumer, startService } from "@payments/testing/services";
import { testKafka } from "@payments/testing/test_kafka";
import { startAll } from "@payments/testing/start_all";
import { createTopics, deleteTopics, uniqueTopics } from "@payments/testing/topics";
import { eventually } from "@payments/testing/wait";

const brokers = sharedBrokers();
const OPEN_METRICS = "application/openmetrics-text;version=1.0.0,text/plain;q=0.5";

/** Both services on fresh topics and group, with `env` (their tracing) added. */
async function pipeline(name: string, env: (service: string) => Record<string, string>) {
  const topics = uniqueTopics(name);
  const groupId = `${name}-${crypto.randomUUID().slice(0, 8)}`;
  await createTopics(brokers, topics, 2);
  const common = { brokers, topics, groupId };
  const [producer, consumer] = await startAll(
    [
      startService("producer", { ...common, port: freePort("127.0.0.1"), env: env("producer") }),
      startService("consumer", {
        ...common,
        port: freePort("127.0.0.1"),
        env: { ...env("consumer"), LAG_MONITOR_ENABLED: "false" },
      }),
    ] as const,
  );
  return {
    producer,
    consumer,
    topics,
    context: () => `--- producer ---\n${producer.tail()}\n--- consumer ---\n${consumer.tail()}`,
    async [Symbol.asyncDispose]() {
      await Promise.all([producer.stop(), consumer.stop()]);
      await deleteTopics(brokers, Object.values(topics));
    },
  };
}

/** Posts one payment and waits for its committed decision. */
async function decided(producer: ServiceProcess, id: string) {
  const posted = await postPayment(producer.url, paymentRequest(id));
  assert.equal(posted.status, 202, JSON.stringify(posted.body));
  const status = await getStatus(`${producer.url}${posted.location}`, { wait: 20 });
  assert.equal(status.status, 200, JSON.stringify(status.body));
  return status.body;
}

const spansNamed = (trace: JaegerTrace, name: string) =>
  trace.spans.filter((span) => span.operationName === name);

function only(trace: JaegerTrace, name: string): JaegerSpan {
  const found = spansNamed(trace, name);
  assert.equal(found.length, 1, `one ${name} span in ${trace.spans.map((s) => s.operationName)}`);
  return found[0]!;
}

/** JSON lines of a service's output. */
const jsonLines = (service: ServiceProcess) =>
  service.lines().flatMap((line) => {
    try {
      return [JSON.parse(line)];
    } catch {
      return [];
    }
  });

Deno.test("one payment posted alone is one trace in Jaeger from its HTTP request to its decision's commit, named by its exemplar and its log lines", async () => {
  await using jaeger = await startTestJaeger();
  await using run = await pipeline("trace-one", (service) => ({
    ...jaeger.otelEnv(`payment-${service}`),
    OTEL_TRACES_SAMPLER: "parentbased_always_on",
  }));
  const { producer, consumer } = run;
  const id = `TRACE-${crypto.randomUUID().slice(0, 8)}`;
  const posted = await postPayment(producer.url, paymentRequest(id));
  assert.equal(posted.status, 202, JSON.stringify(posted.body));
  const correlationId = posted.body.correlation_id;
  const decision = await getStatus(`${producer.url}${posted.location}`, { wait: 20 });
  assert.equal(decision.body.status, "APPROVED", JSON.stringify(decision.body));

  const search = { service: "payment-consumer", tags: { "payment.id": id } };
  const [trace] = await jaeger.query.waitForTraces(
    search,
    (traces) => traces.length === 1 && traces[0]!.spans.length >= 7,
    { what: `the trace of ${id} with the spans of both services`, context: run.context },
  );
  assert.equal(
    (await jaeger.query.findTraces({ service: "payment-producer", tags: { "payment.id": id } }))
      .length,
    1,
    "exactly one trace holds the payment",
  );
  const t = trace!;
  const { requests, byCustomer } = run.topics;
  assert.equal(t.spans.length, 7, t.spans.map((s) => s.operationName).join(", "));
  const server = only(t, "POST /payments");
  const admit = only(t, "admit payments");
  const send = only(t, `send ${requests}`);
  const claim = only(t, `process ${requests}`);
  const decide = only(t, `process ${byCustomer}`);
  const claimCommit = only(t, `commit ${requests}`);
  const decisionCommit = only(t, `commit ${byCustomer}`);

  assert.deepEqual(
    [server, admit, send].map((s) => serviceOf(t, s)),
    ["payment-producer", "payment-producer", "payment-producer"],
  );
  assert.deepEqual(
    [claim, decide, claimCommit, decisionCommit].map((s) => serviceOf(t, s)),
    ["payment-consumer", "payment-consumer", "payment-consumer", "payment-consumer"],
  );
  // HTTP request -> its send -> the payment task -> the customer task; each task's
  // transaction in the payment's trace, under the task's span of it.
  assert.equal(parentSpanId(server), undefined, "the request starts the trace");
  assert.equal(parentSpanId(admit), server.spanID);
  assert.equal(parentSpanId(send), server.spanID);
  assert.equal(parentSpanId(claim), send.spanID, "the record's traceparent is the send span");
  assert.equal(parentSpanId(decide), claim.spanID, "the forward carries the payment task's span");
  assert.equal(parentSpanId(claimCommit), claim.spanID);
  assert.equal(parentSpanId(decisionCommit), decide.spanID);

  assert.equal(tagValue(server, "http.route"), "/payments");
  assert.equal(tagValue(send, "span.kind"), "producer");
  assert.equal(tagValue(send, "messaging.system"), "kafka");
  assert.equal(tagValue(send, "messaging.operation.type"), "send");
  assert.equal(tagValue(send, "messaging.kafka.message.key"), id);
  assert.equal(
    tagValue(send, "messaging.destination.partition.id"),
    String(decision.body.partition),
  );
  for (const [span, topic] of [[claim, requests], [decide, byCustomer]] as const) {
    assert.equal(tagValue(span, "span.kind"), "consumer");
    assert.equal(tagValue(span, "payment.id"), id);
    assert.equal(tagValue(span, "messaging.operation.type"), "process");
    assert.equal(tagValue(span, "messaging.destination.name"), topic);
    assert.match(String(tagValue(span, "messaging.consumer.group.name")), /^trace-one-/);
    assert.equal(typeof tagValue(span, "messaging.kafka.offset"), "number");
  }
  assert.equal(tagValue(claim, "payment.outcome"), "claimed");
  assert.equal(tagValue(decide, "payment.outcome"), "APPROVED");
  assert.equal(tagValue(decisionCommit, "messaging.operation.type"), "settle");
  assert.ok(
    decisionCommit.startTime >= decide.startTime + decide.duration - 1,
    "the commit follows the decision",
  );

  // The chunk's own trace: a root linked to the payment's producer span.
  const chunkLinked = await jaeger.query.waitForTraces(
    { service: "payment-consumer", operation: `process ${requests}` },
    (traces) =>
      traces.some((c) =>
        c.spans.some((s) =>
          parentSpanId(s) === undefined &&
          s.references.some((r) => r.refType === "FOLLOWS_FROM" && r.spanID === send.spanID)
        )
      ),
    { what: "the payment task's chunk span linked to the send span", context: run.context },
  );
  assert.ok(chunkLinked.length >= 1);

  // The exemplar of end_to_end_latency_seconds for this payment names the trace.
  const metrics =
    await (await fetch(`${consumer.url}/metrics`, { headers: { accept: OPEN_METRICS } }))
      .text();
  const exemplar = metrics.split("\n").find((line) =>
    line.startsWith("end_to_end_latency_seconds_bucket{") &&
    line.includes(`correlation_id="${correlationId}"`)
  );
  assert.ok(exemplar, `an end_to_end_latency_seconds exemplar of ${correlationId}`);
  assert.match(exemplar, new RegExp(`trace_id="${t.traceID}"`));

  // The log lines of the payment carry the trace's id, each the id of its own span.
  const accepted = jsonLines(producer).find((l) =>
    l.payment_id === id && /accepted/.test(l.message)
  );
  assert.equal(accepted?.trace_id, t.traceID, JSON.stringify(accepted));
  assert.equal(accepted?.span_id, server.spanID, "the line of the request: the server span's");
  await eventually(
    () =>
      Promise.resolve(
        jsonLines(consumer).some((l) => l.payment_id === id && /APPROVED/.test(l.message)),
      ),
    10_000,
    "the consumer's line of the decision",
  );
  const approved = jsonLines(consumer).find((l) =>
    l.payment_id === id && /APPROVED/.test(l.message)
  );
  assert.equal(approved?.trace_id, t.traceID);
  assert.equal(
    approved?.span_id,
    decide.spanID,
    "the line of the decision: the customer task's span",
  );
});

Deno.test("a batch of 3 is one producer trace, and each payment's span hangs from its send span", async () => {
  await using jaeger = await startTestJaeger();
  await using run = await pipeline("trace-batch", (service) => ({
    ...jaeger.otelEnv(`payment-${service}`),
    OTEL_TRACES_SAMPLER: "parentbased_always_on",
  }));
  const ids = [1, 2, 3].map((i) => `BATCH-${crypto.randomUUID().slice(0, 8)}-${i}`);
  const posted = await postPayment(
    run.producer.url,
    { payments: ids.map((id) => paymentRequest(id)) },
    { path: "/payments/batch" },
  );
  assert.equal(posted.status, 202, JSON.stringify(posted.body));
  for (const id of ids) {
    const status = await getStatus(`${run.producer.url}/payments/${id}`, { wait: 20 });
    assert.equal(status.status, 200, JSON.stringify(status.body));
  }
  const [trace] = await jaeger.query.waitForTraces(
    { service: "payment-producer", operation: "POST /payments/batch" },
    (traces) =>
      traces.length === 1 &&
      spansNamed(traces[0]!, `process ${run.topics.byCustomer}`).length === 3,
    { what: "the batch's one trace with three decisions", context: run.context },
  );
  const t = trace!;
  const send = only(t, `send ${run.topics.requests}`);
  assert.equal(tagValue(send, "messaging.batch.message_count"), 3);
  const claims = spansNamed(t, `process ${run.topics.requests}`);
  assert.deepEqual(claims.map((s) => tagValue(s, "payment.id")).sort(), [...ids].sort());
  for (const claim of claims) assert.equal(parentSpanId(claim), send.spanID);
  for (const id of ids) {
    const found = await jaeger.query.findTraces({
      service: "payment-consumer",
      tags: { "payment.id": id },
    });
    assert.deepEqual(found.map((f) => f.traceID), [t.traceID], `${id} is in the batch's trace`);
  }
});

Deno.test("sampled at 0, no span reaches Jaeger and the pipeline decides as before", async () => {
  await using jaeger = await startTestJaeger();
  await using run = await pipeline("trace-zero", (service) => ({
    ...jaeger.otelEnv(`payment-${service}`),
    OTEL_TRACES_SAMPLER: "parentbased_traceidratio",
    OTEL_TRACES_SAMPLER_ARG: "0",
  }));
  const id = `ZERO-${crypto.randomUUID().slice(0, 8)}`;
  const body = await decided(run.producer, id);
  assert.equal(body.status, "APPROVED");
  // A span, had there been one, would have been exported well within this: a span
  // sent by another process of the same Jaeger shows it is listening.
  const probe = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL("../testing/testdata/emit_span.ts", import.meta.url).pathname,
      "zero",
    ],
    env: jaeger.otelEnv("trace-zero-witness"),
    stdout: "null",
    stderr: "null",
  }).output();
  assert.ok(probe.success);
  await jaeger.query.waitForTraces(
    { service: "trace-zero-witness" },
    (traces) => traces.length === 1,
  );
  await new Promise((resolve) => setTimeout(resolve, 2000));
  assert.deepEqual(
    (await jaeger.query.services()).filter((s) => s.startsWith("payment-")),
    [],
    "no span of either service",
  );
  // The ids still ride along, unsampled: the lines of one payment still join.
  const line = jsonLines(run.consumer).find((l) =>
    l.payment_id === id && /APPROVED/.test(l.message)
  );
  assert.match(String(line?.trace_id), /^[0-9a-f]{32}$/);
});

Deno.test("with no collector listening nothing fails and nothing is logged at error level", async () => {
  const closed = freePort("127.0.0.1");
  await using run = await pipeline("trace-nowhere", (service) => ({
    OTEL_DENO: "true",
    OTEL_SERVICE_NAME: `payment-${service}`,
    OTEL_TRACES_SAMPLER: "parentbased_always_on",
    OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${closed}`,
  }));
  for (let i = 0; i < 3; i++) {
    const body = await decided(run.producer, `NOWHERE-${crypto.randomUUID().slice(0, 8)}`);
    assert.equal(body.status, "APPROVED");
  }
  // Deno exports on a timer: give it several rounds of failing to reach the endpoint.
  await new Promise((resolve) => setTimeout(resolve, 6000));
  await run.producer.stop();
  await run.consumer.stop();
  for (const service of [run.producer, run.consumer]) {
    const lines = service.lines();
    const errors = lines.filter((line) =>
      /"level":"(error|fatal)"/.test(line) || !line.startsWith("{")
    );
    assert.deepEqual(errors, [], `${service.name}: no error line and nothing but JSON lines`);
    assert.equal(await service.exited, 0);
  }
});

Deno.test("the retries kafkajs makes inside a transaction are events of its commit span", async () => {
  await using jaeger = await startTestJaeger();
  await using t = await testKafka("trace-retry", 1);
  // One record per transaction: each starts right after the previous commit, which
  // Kafka answers CONCURRENT_TRANSACTIONS until that commit's markers are written.
  await produce(t, Array.from({ length: 60 }, () => paymentEvent()));
  await using consumer = await startConsumer(t, {
    env: {
      ...jaeger.otelEnv("payment-consumer"),
      OTEL_TRACES_SAMPLER: "parentbased_always_on",
      CONSUMER_MAX_RECORDS_PER_TRANSACTION: "1",
    },
  });
  const traces = await jaeger.query.waitForTraces(
    { service: "payment-consumer", operation: `commit ${t.topics.requests}`, limit: 1000 },
    (found) => found.some((trace) => trace.spans.some((s) => retries(s).length > 0)),
    { what: "a commit span with a retry event", context: () => consumer.tail() },
  );
  const retried = traces.flatMap((trace) => trace.spans).find((s) => retries(s).length > 0)!;
  assert.match(retried.operationName, /^commit /);
  assert.equal(
    retries(retried)[0]!.fields.find((f) => f.key === "error.type")?.value,
    "CONCURRENT_TRANSACTIONS",
  );
});

/** The `retry` events of a span. */
const retries = (span: JaegerSpan) =>
  span.logs.filter((log) => log.fields.some((f) => f.key === "event" && f.value === "retry"));
