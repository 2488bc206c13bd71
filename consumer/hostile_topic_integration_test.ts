/**
 * Hostile records on the requests topic, against a real consumer subprocess on the shared
 * broker: each valid-JSON-but-adversarial record ends as exactly one committed result or
 * one dead letter with a reason, the consumer never crashes or stalls, and a normal
 * payment produced after them gets its result.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { readOrigin } from "./results.ts";
import { sharedBrokers } from "@payments/testing/brokers";
import { testClient } from "@payments/testing/kafka";
import { readCommitted, type TopicRecord } from "@payments/testing/kcat";
import { paymentEvent } from "@payments/testing/payments";
import { reportFigures } from "@payments/testing/report";
import { serviceEnv, startService } from "@payments/testing/services";
import { createPipelineTopics } from "@payments/testing/topics";
import { withTimeout } from "@payments/testing/wait";

const encoder = new TextEncoder();
/** A valid event with `over` spread on it: fields of the wrong type, extra fields. */
const payment = (over: Record<string, unknown> = {}) => ({
  ...paymentEvent({ source: "hostile-test" }),
  ...over,
});
const deep = 100_000;

interface Hostile {
  name: string;
  value: string | Uint8Array | null;
  headers?: Record<string, string | Uint8Array>;
}

const HOSTILE: Hostile[] = [
  {
    name: "a 100 KB payment_id",
    value: JSON.stringify(payment({ payment_id: "P".repeat(100_000) })),
  },
  {
    name: "a 900 KB description",
    value: JSON.stringify(payment({ description: "d".repeat(900_000) })),
  },
  {
    name: "a 1 MB value (a 1 000 000-character customer id)",
    value: JSON.stringify(payment({ customer_id: "c".repeat(1_000_000) })),
  },
  { name: "amount as a string", value: JSON.stringify(payment({ amount: "10" })) },
  { name: "amount null", value: JSON.stringify(payment({ amount: null })) },
  {
    name: "amount 1e309",
    value: JSON.stringify(payment()).replace('"amount":10', '"amount":1e309'),
  },
  { name: "amount -0", value: JSON.stringify(payment()).replace('"amount":10', '"amount":-0') },
  { name: "payment_id a number", value: JSON.stringify(payment({ payment_id: 12345 })) },
  { name: "payment_id an object", value: JSON.stringify(payment({ payment_id: { $gt: "" } })) },
  {
    name: "status APPROVED instead of PENDING",
    value: JSON.stringify(payment({ status: "APPROVED" })),
  },
  {
    name: "extra fields",
    value: JSON.stringify(payment({ evil: { nested: [1, 2, 3] }, admin: true })),
  },
  {
    name: "a __proto__ key",
    value: JSON.stringify(payment()).replace("{", '{"__proto__":{"amount":999999},'),
  },
  { name: "a JSON array", value: "[1,2,3]" },
  { name: "a JSON string", value: '"payment"' },
  { name: "JSON null", value: "null" },
  { name: "JSON nested 100 000 levels", value: "[".repeat(deep) + "]".repeat(deep) },
  { name: "an empty value", value: "" },
  { name: "a tombstone (null value)", value: null },
  {
    name: "invalid UTF-8 in the value",
    value: new Uint8Array([
      ...encoder.encode(JSON.stringify(payment({ description: "@@" })).split("@@")[0]!),
      0xff,
      0xfe,
      ...encoder.encode('"}'),
    ]),
  },
  {
    name: "invalid UTF-8 header values",
    value: JSON.stringify(payment()),
    headers: {
      correlation_id: new Uint8Array([0xff, 0xfe, 0xc0]),
      traceparent: new Uint8Array([0xc3, 0x28]),
    },
  },
  { name: "no headers at all (missing correlation header)", value: JSON.stringify(payment()) },
  {
    name: "a forged correlation header (control characters, differs from the body)",
    value: JSON.stringify(payment()),
    headers: { correlation_id: "forged\r\nX-Injected: 1\u0000", traceparent: "zz-not-a-trace" },
  },
  {
    name: "a forged dlq_reason header on a valid payment",
    value: JSON.stringify(payment()),
    headers: { dlq_reason: "forged", original_offset: "-1", attempts: "999" },
  },
];

Deno.test("adversarial records each end as one result or one dead letter with a reason, and the consumer keeps going", async (t) => {
  const brokers = sharedBrokers();
  const topics = await createPipelineTopics(brokers, "hostile-topic", { partitions: 1 });
  const kafka = testClient(brokers, { clientId: "hostile-topic" });
  await withTimeout(
    (async () => {
      await using consumer = await startService("consumer", {
        env: serviceEnv(brokers.join(","), topics, {
          CONSUMER_GROUP_ID: `${topics.requests}.group`,
          CONSUMER_SESSION_TIMEOUT_MS: "6000",
          CONSUMER_RETRY_BACKOFF_MS: "20",
          LAG_MONITOR_ENABLED: "false",
          LOG_LEVEL: "warning",
        }),
      });
      const producer = kafka.producer({ maxInFlightRequests: 1 });
      await producer.connect();
      const normal = payment();
      try {
        for (const h of HOSTILE) {
          await producer.send({
            topic: topics.requests,
            acks: -1,
            messages: [{ key: `k-${h.name}`, value: bytes(h.value), headers: headers(h.headers) }],
          });
        }
        await producer.send({
          topic: topics.requests,
          acks: -1,
          messages: [{
            key: normal.payment_id,
            value: JSON.stringify(normal),
            headers: { correlation_id: normal.correlation_id },
          }],
        });
      } finally {
        await producer.disconnect();
      }

      const inputs = HOSTILE.length + 1;
      let answers: (TopicRecord & { kind: "result" | "dlq" })[] = [];
      const deadline = Date.now() + 60_000;
      while (Date.now() < deadline) {
        answers = [
          ...(await readCommitted(brokers[0]!, topics.results)).map((r) => ({
            ...r,
            kind: "result" as const,
          })),
          ...(await readCommitted(brokers[0]!, topics.dlq)).map((r) => ({
            ...r,
            kind: "dlq" as const,
          })),
        ];
        if (answers.length >= inputs) break;
        assert.equal(consumer.hasExited, false, `the consumer exited:\n${consumer.tail()}`);
        await new Promise((r) => setTimeout(r, 500));
      }

      const byOffset = new Map<number, (typeof answers)[number][]>();
      for (const a of answers) {
        // A dead letter names its input in original_* headers, a result in `origin`.
        const offset = Number(readOrigin(a.headers)?.offset);
        byOffset.set(offset, [...(byOffset.get(offset) ?? []), a]);
      }
      for (const [i, h] of HOSTILE.entries()) {
        await t.step(`${h.name}: exactly one answer`, () => {
          const got = byOffset.get(i) ?? [];
          assert.equal(
            got.length,
            1,
            `answers for offset ${i}: ${JSON.stringify(got.map((a) => a.kind))}`,
          );
          const answer = got[0]!;
          if (answer.kind === "dlq") {
            assert.ok(answer.headers.dlq_reason, "a dead letter says why");
            assert.notEqual(answer.headers.dlq_reason, "forged");
            assert.equal(answer.headers.original_topic, topics.requests);
          } else {
            const result = JSON.parse(answer.payload!);
            assert.ok(["APPROVED", "DECLINED", "DUPLICATE"].includes(result.outcome));
            assert.ok(result.amount > 0 && result.amount <= 10_000, `amount ${result.amount}`);
          }
        });
      }
      await t.step("the normal payment after them is approved", () => {
        const got = byOffset.get(HOSTILE.length) ?? [];
        assert.equal(got.length, 1);
        assert.equal(got[0]!.kind, "result");
        const result = JSON.parse(got[0]!.payload!);
        assert.equal(result.payment_id, normal.payment_id);
        assert.equal(result.outcome, "APPROVED");
      });
      await t.step("the consumer is alive, healthy and ready", async () => {
        assert.equal(consumer.hasExited, false);
        const health = await fetch(`${consumer.url}/health`);
        assert.equal(health.status, 200);
        await health.body?.cancel();
        await consumer.waitReady(10_000);
      });
      const reasons: Record<string, number> = {};
      for (const a of answers) {
        const key = a.kind === "dlq" ? `dlq:${a.headers.dlq_reason}` : "result";
        reasons[key] = (reasons[key] ?? 0) + 1;
      }
      reportFigures("hostile topic records", { inputs, answers: answers.length, ...reasons });
    })(),
    120_000,
    "hostile topic scenario",
  );
});

function bytes(value: string | Uint8Array | null): Buffer | string | null {
  return value instanceof Uint8Array ? Buffer.from(value) : value;
}

function headers(raw: Hostile["headers"] = {}): Record<string, Buffer | string> {
  return Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, bytes(v)!]));
}
