import assert from "node:assert/strict";
import { checkMetrics } from "@payments/testing/promtool";
import { createRegistry } from "@payments/shared/metrics";
import { createConsumerMetrics } from "./metrics.ts";
import { createHandler, type ServerDeps } from "./server.ts";

function deps(over: Partial<ServerDeps> = {}): ServerDeps {
  const registry = createRegistry("payment-consumer", { defaults: false });
  createConsumerMetrics(registry, "payment_requests");
  return {
    registry,
    topic: "payment_requests",
    status: () => ({ state: "assigned", assignedPartitions: [0, 2], memberId: "m-1" }),
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
    deps({ status: () => ({ state: "starting", assignedPartitions: [] }) }),
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
