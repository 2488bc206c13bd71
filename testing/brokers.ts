/**
 * Brokers for tests. Integration tests normally share the one broker that the root test
 * runner (`deno task test`) starts and announces in `KAFKA_BROKERS`; a test that stops,
 * pauses or restarts a broker mid-test starts its own throw-away broker instead. Both
 * prepare the test's kafkajs clients first ({@linkcode prepareTestClients}).
 *
 * @example
 * ```ts
 * import { startThrowawayBroker } from "@payments/testing/brokers";
 * Deno.test("survives a broker restart", async () => {
 *   await using broker = await startThrowawayBroker();
 *   // ... produce to broker.bootstrap ...
 *   await broker.restart();
 * });
 * ```
 *
 * @module
 */
import {
  startThrowawayBroker as startBroker,
  type ThrowawayBroker,
  type ThrowawayBrokerOptions,
} from "@payments/stack/broker";
import { prepareTestClients } from "./kafka.ts";

export { freePort } from "@payments/kafka/ports";
export type { KafkaBroker, ThrowawayBroker, ThrowawayBrokerOptions } from "@payments/stack/broker";

/** A throw-away broker on free ports in a fresh temporary directory (`@payments/stack/broker`). */
export async function startThrowawayBroker(
  options: ThrowawayBrokerOptions = {},
): Promise<ThrowawayBroker> {
  prepareTestClients();
  return await startBroker(options);
}

/**
 * The brokers of the shared test broker, from `KAFKA_BROKERS` (comma-separated).
 * Throws when it is unset, so an integration test is never skipped silently.
 */
export function sharedBrokers(env: Pick<Deno.Env, "get"> = Deno.env): string[] {
  prepareTestClients();
  const raw = env.get("KAFKA_BROKERS")?.trim();
  if (!raw) {
    throw new Error(
      "integration tests need a broker: run them through `deno task test`, or set KAFKA_BROKERS " +
        "(e.g. KAFKA_BROKERS=127.0.0.1:9092 with `deno task kafka` running)",
    );
  }
  return raw.split(",").map((b) => b.trim()).filter((b) => b.length > 0);
}
