/**
 * The services as subprocesses in tests: the product's one way to start them
 * (`@payments/stack/services`), and a consumer for a {@linkcode TestKafka} with the
 * settings consumer tests share (a 6 s session, no lag monitor).
 *
 * @example
 * ```ts
 * await using t = await testKafka("restart", 1);
 * await using consumer = await startConsumer(t, { env: { CONSUMER_STATE_DIR: t.stateDir } });
 * ```
 *
 * @module
 */
import {
  serviceEnv,
  type ServiceOptions,
  type ServiceProcess,
  startService,
} from "@payments/stack/services";
import type { TestKafka } from "./test_kafka.ts";

export {
  runUntilExit,
  serviceEnv,
  type ServiceExit,
  type ServiceOptions,
  type ServiceProcess,
  startService,
} from "@payments/stack/services";

/**
 * The environment of a consumer of `t`'s topics and group: a 6 s session (a killed
 * member's partitions move on quickly), no lag monitor; `extra` wins. The state
 * directory is the service's own unless `extra` names one (`t.stateDir`: the same disk).
 */
export function consumerEnv(
  t: Pick<TestKafka, "brokers" | "topics" | "groupId">,
  extra: Record<string, string> = {},
): Record<string, string> {
  return serviceEnv(t.brokers.join(","), t.topics, {
    CONSUMER_GROUP_ID: t.groupId,
    CONSUMER_SESSION_TIMEOUT_MS: "6000",
    LAG_MONITOR_ENABLED: "false",
    ...extra,
  });
}

/** `consumer/main.ts` as a subprocess on `t`'s topics and group ({@linkcode consumerEnv}). */
export async function startConsumer(
  t: Pick<TestKafka, "brokers" | "topics" | "groupId">,
  options: Omit<ServiceOptions, "brokers" | "topics" | "groupId"> = {},
): Promise<ServiceProcess> {
  return await startService("consumer", { ...options, env: consumerEnv(t, options.env) });
}
