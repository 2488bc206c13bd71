import assert from "node:assert/strict";
import { checkMetrics } from "@payments/testing/promtool";
import { createRegistry, observeWithExemplar } from "@payments/shared/metrics";
import { createConsumerMetrics, registerWorkerState, WORKER_STATES } from "./metrics.ts";
import { createHandler, type ServerDeps } from "./server.ts";
import type { WorkerStatus } from "./status.ts";

function deps(over: Partial<ServerDeps> = {}): ServerDeps {
  const registry = createRegistry("payment-consumer", { defaults: false });
  createConsumerMetrics(registry, "payment_requests");
  return {
    registry,
    topic: "payment_requests",
    status: () => ({
      state: "assigned",
      assignedPartitions: [0, 2],
      assignedTasks: [
        { kind: "payments", partition: 0, state: "running" },
        { kind: "payments", partition: 2, state: "running" },
      ],
      memberId: "m-1",
    }),
    lag: () => [],
    kafkaReachable: () => Promise.resolve(true),
    ...over,
  };
}

Deno.test("/ready lists assigned partitions when the member has an assignment and Kafka answers", async () => {
  const response = await createHandler(deps())(new Request("http://x/ready"));
  assert.equal(response.status, 200);
  const body = await response.json();
  assert.deepEqual(body.assigned_partitions, [
    { topic: "payment_requests", partition: 0 },
    { topic: "payment_requests", partition: 2 },
  ]);
});

Deno.test("/ready is 503 when Kafka is unreachable or the worker is not a member", async () => {
  const down = createHandler(deps({ kafkaReachable: () => Promise.resolve(false) }));
  assert.equal((await down(new Request("http://x/ready"))).status, 503);
  const starting = createHandler(
    deps({ status: () => ({ state: "starting", assignedPartitions: [], assignedTasks: [] }) }),
  );
  const response = await starting(new Request("http://x/ready"));
  assert.equal(response.status, 503);
  assert.equal((await response.json()).state, "starting");
});

Deno.test("/health answers and unknown routes are 404", async () => {
  const handler = createHandler(deps());
  assert.equal((await handler(new Request("http://x/health"))).status, 200);
  const missing = await handler(new Request("http://x/nope"));
  assert.equal(missing.status, 404);
  assert.equal(missing.headers.get("content-type"), "application/problem+json");
  assert.equal((await missing.json()).detail, "No route /nope");
  const post = await handler(new Request("http://x/metrics", { method: "POST" }));
  assert.equal(post.status, 405);
  assert.equal(post.headers.get("allow"), "GET, HEAD");
  await post.body?.cancel();
});

Deno.test("/metrics exposes every contract metric with known labels at 0 and passes promtool", async () => {
  const response = await createHandler(deps())(new Request("http://x/metrics"));
  const text = await response.text();
  for (
    const line of [
      'messages_consumed_total{topic="payment_requests",status="success",service="payment-consumer"} 0',
      'payment_results_total{outcome="DUPLICATE",service="payment-consumer"} 0',
      'dead_letter_messages_total{reason="null_value",service="payment-consumer"} 0',
      'consumer_rebalances_total{type="revoke",service="payment-consumer"} 0',
      'message_processing_duration_seconds_bucket{le="7.5",service="payment-consumer",topic="payment_requests",status="failed"} 0',
    ]
  ) assert.ok(text.includes(line), line);
  const { code, output: out } = await checkMetrics(text);
  assert.equal(code, 0, out);
  assert.equal(out.trim(), "");
});

Deno.test("/metrics answers OpenMetrics with exemplars to a scraper that asks for it, text otherwise", async () => {
  const registry = createRegistry("payment-consumer", { defaults: false });
  const metrics = createConsumerMetrics(registry, "payment_requests");
  observeWithExemplar(metrics.endToEndLatency, { topic: "payment_requests" }, 0.2, {
    traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
    correlationId: "corr-consumer-1",
  });
  const handler = createHandler(deps({ registry }));
  const openMetrics = await handler(
    new Request("http://x/metrics", {
      headers: { accept: "application/openmetrics-text;version=1.0.0,text/plain;q=0.5" },
    }),
  );
  assert.match(openMetrics.headers.get("content-type")!, /^application\/openmetrics-text/);
  assert.match(
    await openMetrics.text(),
    /^end_to_end_latency_seconds_bucket\{le="0\.25",[^}]*\} 1 # \{trace_id="4bf92f3577b34da6a3ce929d0e0e4736",correlation_id="corr-consumer-1"\} 0\.2 /m,
  );
  const text = await handler(new Request("http://x/metrics"));
  assert.match(text.headers.get("content-type")!, /^text\/plain/);
  const { code, output } = await checkMetrics(await text.text());
  assert.equal(code, 0, output);
});

const inState = (state: WorkerStatus["state"]) => () => ({
  state,
  assignedPartitions: [],
  assignedTasks: [],
});

Deno.test("a worker that crashed for good answers 503 on /health and /ready, saying why", async () => {
  const handler = createHandler(deps({ status: inState("crashed") }));
  const health = await handler(new Request("http://x/health"));
  assert.equal(health.status, 503);
  const body = await health.json();
  assert.equal(body.status, "unhealthy");
  assert.match(body.reason, /stopped consuming for good.*restart the process/);
  const ready = await handler(new Request("http://x/ready"));
  assert.equal(ready.status, 503);
  assert.equal((await ready.json()).state, "crashed");
});

Deno.test("while kafkajs restarts its consumer after a retriable crash the worker is live but not ready", async () => {
  const handler = createHandler(deps({ status: inState("restarting") }));
  const health = await handler(new Request("http://x/health"));
  assert.equal(health.status, 200);
  assert.equal((await health.json()).status, "healthy");
  const ready = await handler(new Request("http://x/ready"));
  assert.equal(ready.status, 503);
  assert.equal((await ready.json()).state, "restarting");
});

Deno.test("consumer_worker_state has one series per state, 1 for the current one, and passes promtool", async () => {
  let state: WorkerStatus["state"] = "assigned";
  const d = deps();
  registerWorkerState(d.registry, () => ({ state, assignedPartitions: [], assignedTasks: [] }));
  const handler = createHandler(d);
  const states = async () => {
    const text = await (await handler(new Request("http://x/metrics"))).text();
    const lines = text.split("\n").filter((l) => l.startsWith("consumer_worker_state{"));
    return { text, lines };
  };
  const first = await states();
  assert.equal(first.lines.length, Object.keys(WORKER_STATES).length);
  assert.ok(
    first.lines.includes('consumer_worker_state{state="assigned",service="payment-consumer"} 1'),
  );
  assert.ok(
    first.lines.includes('consumer_worker_state{state="crashed",service="payment-consumer"} 0'),
  );
  state = "crashed";
  const second = await states();
  assert.ok(
    second.lines.includes('consumer_worker_state{state="crashed",service="payment-consumer"} 1'),
  );
  assert.ok(
    second.lines.includes('consumer_worker_state{state="assigned",service="payment-consumer"} 0'),
  );
  const { code, output } = await checkMetrics(second.text);
  assert.equal(code, 0, output);
  assert.equal(output.trim(), "");
});
