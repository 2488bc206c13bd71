/**
 * The readiness probe's verdicts against a fake admin client that answers as kafkajs
 * does; producer/missing_topic_integration_test.ts meets the real broker.
 */
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { getLogger } from "@logtape/logtape";
import protocolErrors from "kafkajs/src/protocol/error.js";
import { ReadinessProbe } from "./readiness_probe.ts";

// kafkajs re-exports its error classes with an object spread, which Deno's named
// CommonJS export detection cannot see; load them the CommonJS way.
const { KafkaJSConnectionError, KafkaJSNonRetriableError, KafkaJSProtocolError } =
  // deno-lint-ignore no-explicit-any
  createRequire(import.meta.url)("kafkajs") as Record<string, any>;
const { createErrorFromCode } = protocolErrors as { createErrorFromCode: (code: number) => Error };

/** UNKNOWN_TOPIC_OR_PARTITION, wrapped the way kafkajs' retrier hands it on. */
function unknownTopic(): Error {
  const error = new KafkaJSProtocolError(createErrorFromCode(3));
  return new KafkaJSNonRetriableError(error, { cause: error });
}

/** An admin client whose metadata answer is `answer()` (a throw is a failed request). */
function fakeAdmin(answer: () => number) {
  return {
    connect: () => Promise.resolve(),
    disconnect: () => Promise.resolve(),
    fetchTopicMetadata: ({ topics }: { topics: string[] }) =>
      Promise.resolve().then(() => {
        const partitions = Array.from({ length: answer() }, (_, partition) => ({ partition }));
        return { topics: topics.map((name) => ({ name, partitions })) };
      }),
  };
}

function probe(answer: () => number) {
  return new ReadinessProbe({
    admin: fakeAdmin(answer) as never,
    topic: "payments_in",
    intervalMs: 60_000,
    producerConnected: () => true,
    connectProducer: () => Promise.resolve(),
    logger: getLogger(["test", "readiness"]),
    explain: String,
  });
}

const MISSING = "the topic payments_in (TOPIC_PAYMENT_REQUESTS) does not exist";

Deno.test("a topic Kafka does not know is named with its variable, and the next check after it exists is ready", async () => {
  let exists = false;
  const readiness = probe(() => {
    if (!exists) throw unknownTopic();
    return 3;
  });
  await readiness.check();
  assert.deepEqual(readiness.ready(), { ready: false, detail: MISSING });
  exists = true;
  await readiness.check();
  assert.deepEqual(readiness.ready(), { ready: true, detail: "topic payments_in available" });
  await readiness.close();
  assert.equal(readiness.ready().ready, false);
});

Deno.test("an unreachable Kafka is not called a missing topic", async () => {
  const readiness = probe(() => {
    throw new KafkaJSConnectionError("Connection refused");
  });
  await readiness.check();
  const { ready, detail } = readiness.ready();
  assert.equal(ready, false);
  assert.match(detail, /^Kafka unreachable or topic payments_in unknown: .*Connection refused/);
  assert.doesNotMatch(detail, /does not exist/);
  await readiness.close();
});

Deno.test("a failed send names a missing topic too, and any other failure as it is", async () => {
  const readiness = probe(() => 3);
  await readiness.check();
  assert.equal(readiness.ready().ready, true);
  readiness.markSendFailed(unknownTopic());
  assert.deepEqual(readiness.ready(), { ready: false, detail: MISSING });
  readiness.markHealthy();
  readiness.markSendFailed(new KafkaJSConnectionError("Connection refused"));
  assert.deepEqual(readiness.ready(), {
    ready: false,
    detail: "last send failed: KafkaJSConnectionError: Connection refused",
  });
  await readiness.close();
});
