/**
 * The tests' one Kafka client.
 *
 * {@linkcode prepareTestClients} is what every service's main.ts does before its first
 * kafkajs client, done once for the test process: kafkajs' harmless timer warning muted
 * and every compression codec registered, so the test's clients read whatever the
 * services and kcat write. {@linkcode testClient} and the broker helpers
 * (`@payments/testing/brokers`) call it, so a test never has to.
 *
 * @example
 * ```ts
 * import { testClient } from "@payments/testing/kafka";
 * const admin = testClient("127.0.0.1:9092", { quickFailure: true }).admin();
 * ```
 *
 * @module
 */
import { Kafka, logLevel } from "kafkajs";
import { muteKafkajsTimeoutWarning } from "@payments/shared/kafkajs_quiet";
import { registerKafkaCodecs } from "@payments/shared/kafka_codecs";

/** Mutes kafkajs' timer warning and registers every codec, for this process. Idempotent. */
export function prepareTestClients(): void {
  muteKafkajsTimeoutWarning();
  registerKafkaCodecs();
}

/** Options of {@linkcode testClient}. */
export interface TestClientOptions {
  /** kafkajs client id (default `test`). */
  clientId?: string;
  /**
   * Give up on a dead broker quickly (connect 1 s, request 3 s), as a test of an outage
   * needs; default kafkajs' own timeouts.
   */
  quickFailure?: boolean;
}

/** A kafkajs client for `brokers` (a list or a comma-separated string), logging nothing. */
export function testClient(brokers: string[] | string, options: TestClientOptions = {}): Kafka {
  prepareTestClients();
  return new Kafka({
    clientId: options.clientId ?? "test",
    brokers: typeof brokers === "string" ? brokers.split(",") : brokers,
    logLevel: logLevel.NOTHING,
    ...(options.quickFailure ? { connectionTimeout: 1000, requestTimeout: 3000 } : {}),
  });
}
