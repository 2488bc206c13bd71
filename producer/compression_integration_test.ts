import assert from "node:assert/strict";
import { sharedBrokers } from "@payments/testing/brokers";
import { KAFKA_COMPRESSIONS, type KafkaCompression } from "@payments/shared/kafka_codecs";
import { PaymentEventSchema } from "@payments/shared/payment";
import { topicBytesOnDisk } from "@payments/kafka/log_dirs";
import { readCommitted } from "@payments/testing/kcat";
import { startService } from "@payments/testing/services";
import { createTopics, deleteTopics, uniqueTopics } from "@payments/testing/topics";
import { paymentRequest } from "@payments/testing/payments";
import { postJson } from "./testing.ts";

Deno.test("the producer writes with each KAFKA_COMPRESSION, and kcat reads back the same payments", async () => {
  const brokers = sharedBrokers();
  const topicsOf = new Map(KAFKA_COMPRESSIONS.map((c) => [c, uniqueTopics(`producer-${c}`)]));
  for (const topics of topicsOf.values()) await createTopics(brokers, topics, 3);
  const sent = new Map<KafkaCompression, Record<string, unknown>[]>();
  try {
    for (const codec of KAFKA_COMPRESSIONS) {
      const topics = topicsOf.get(codec)!;
      await using producer = await startService("producer", {
        brokers,
        topics,
        env: { KAFKA_COMPRESSION: codec, LAG_MONITOR_ENABLED: "false" },
      });
      const payments = Array.from(
        { length: 200 },
        (_, i) =>
          paymentRequest(`${codec.toUpperCase()}-${i}`, { amount: i + 0.5, currency: "EUR" }),
      );
      for (let i = 0; i < payments.length; i += 100) {
        const response = await fetch(
          `${producer.url}/payments/batch`,
          postJson({ payments: payments.slice(i, i + 100) }, {
            "x-correlation-id": `corr-${codec}`,
          }),
        );
        assert.equal(response.status, 202, `${codec}: ${await response.text()}`);
      }
      sent.set(codec, payments);
    }
    for (const codec of KAFKA_COMPRESSIONS) {
      const records = await readCommitted(brokers[0]!, topicsOf.get(codec)!.requests);
      const events = records.map((r) => PaymentEventSchema.parse(JSON.parse(r.payload!)));
      const fields = (p: Record<string, unknown>) =>
        [p.payment_id, p.amount, p.merchant_id, p.customer_id, p.currency].join("|");
      assert.deepEqual(
        events.map(fields).sort(),
        sent.get(codec)!.map(fields).sort(),
        `${codec}: the same payments`,
      );
      assert.ok(events.every((e) => e.correlation_id === `corr-${codec}`));
      assert.deepEqual(records.map((r) => r.key).sort(), events.map((e) => e.payment_id).sort());
    }
    const requests = KAFKA_COMPRESSIONS.map((c) => topicsOf.get(c)!.requests);
    const sizes = await topicBytesOnDisk(brokers[0]!, requests);
    const plain = sizes.get(topicsOf.get("none")!.requests)!;
    for (const codec of KAFKA_COMPRESSIONS.filter((c) => c !== "none")) {
      const size = sizes.get(topicsOf.get(codec)!.requests)!;
      assert.ok(size > 0 && size < plain / 2, `${codec}: ${size} bytes on disk, none: ${plain}`);
    }
  } finally {
    await deleteTopics(
      brokers,
      [...topicsOf.values()].flatMap((t) => [t.requests, t.results, t.dlq, t.decisions]),
    );
  }
});
