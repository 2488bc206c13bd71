import assert from "node:assert/strict";
import { freePort, sharedBrokers } from "./brokers.ts";

const env = (value?: string) => ({
  get: (key: string) => key === "KAFKA_BROKERS" ? value : undefined,
});

Deno.test("sharedBrokers splits KAFKA_BROKERS into a list", () => {
  assert.deepEqual(sharedBrokers(env("127.0.0.1:9092, host2:9093")), [
    "127.0.0.1:9092",
    "host2:9093",
  ]);
});

Deno.test("sharedBrokers throws a clear error when KAFKA_BROKERS is unset", () => {
  for (const value of [undefined, "", "  "]) {
    assert.throws(
      () => sharedBrokers(env(value)),
      /integration tests need a broker: run them through `deno task test`, or set KAFKA_BROKERS/,
    );
  }
});

Deno.test("freePort returns a port that can be bound", () => {
  const port = freePort();
  const listener = Deno.listen({ hostname: "127.0.0.1", port });
  listener.close();
});
