import assert from "node:assert/strict";
import { sharedBrokers } from "@payments/testing/brokers";
import { testClient } from "@payments/testing/kafka";
import { readCommitted } from "@payments/testing/kcat";
import { createTopic } from "@payments/testing/topics";
import { createProducerMetrics, createProducerRegistry } from "./metrics.ts";
import { readyPublisher } from "./testing.ts";

Deno.test("concurrent requests share sends, and each gets the positions of its own records", async () => {
  const [bootstrap] = sharedBrokers();
  const kafka = testClient(bootstrap!, { clientId: "producer-test", quickFailure: true });
  const topic = await createTopic(bootstrap!, "coalesce", 3);
  const metrics = createProducerMetrics(createProducerRegistry({ defaults: false }), topic);
  await using publisher = await readyPublisher(kafka, topic, {
    sendTimeoutMs: 10_000,
    readyIntervalMs: 60_000,
    metrics,
    readyWithinMs: 20_000,
  });

  const requests = Array.from({ length: 30 }, (_, r) =>
    Array.from({ length: 10 }, (_, i) => ({
      key: `r${r}-p${i}`,
      value: JSON.stringify({ request: r, payment: i }),
      headers: { correlation_id: `corr-${r}` },
    })));
  const answers = await Promise.all(
    requests.map((records) => publisher.publish(records, { timeoutMs: 10_000 })),
  );

  const stored = new Map(
    (await readCommitted(bootstrap!, topic)).map((r) => [`${r.partition}@${r.offset}`, r]),
  );
  assert.equal(stored.size, 300);
  requests.forEach((records, r) => {
    records.forEach((record, i) => {
      const position = answers[r]![i]!;
      const found = stored.get(`${position.partition}@${position.offset}`);
      assert.equal(
        found?.key,
        record.key,
        `request ${r} payment ${i} at ${JSON.stringify(position)}`,
      );
      assert.equal(found?.headers.correlation_id, `corr-${r}`);
    });
  });
  const produceRequests = (await metrics.registry.metrics()).split("\n")
    .filter((line) =>
      line.startsWith("kafka_client_request_duration_seconds_count{") &&
      line.includes('api="Produce"')
    )
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(" ") + 1)), 0);
  assert.ok(
    produceRequests < requests.length,
    `30 concurrent requests went out in ${produceRequests} produce requests`,
  );
});
