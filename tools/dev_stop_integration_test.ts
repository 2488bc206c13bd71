/**
 * Any stop signal is a clean stop of `deno task dev`: SIGTERM to its whole process group
 * (what systemd, `docker stop`, CI runners and `timeout` send) drains the services
 * while the broker is up, stops the broker last, prints no error and exits 0, and the
 * next start joins the consumer group at once; a service stopped on its own stops the
 * rest the same way.
 */
import { topicsEnv } from "@payments/shared/topics";
import assert from "node:assert/strict";
import { freePort, sharedBrokers } from "@payments/testing/brokers";
import { createTopics, deleteTopics, uniqueTopics } from "@payments/testing/topics";
import {
  descendantPid,
  devJaegerEnv,
  type DevSession,
  startDev,
  waitUntilOk,
} from "./dev_support.ts";

async function isListening(port: number): Promise<boolean> {
  try {
    (await Deno.connect({ hostname: "127.0.0.1", port })).close();
    return true;
  } catch {
    return false;
  }
}

/** Milliseconds since midnight of a pretty line's `HH:MM:SS.mmm`. */
function timeOf(line: string): number {
  const match = /(\d\d):(\d\d):(\d\d)\.(\d{3}) /.exec(line);
  if (!match) throw new Error(`no time in ${line}`);
  const [h, m, s, ms] = match.slice(1).map(Number) as [number, number, number, number];
  return ((h * 60 + m) * 60 + s) * 1000 + ms;
}

/** Lines that must never appear in a clean stop. */
function assertNoErrors(lines: string[]) {
  const bad = lines.filter((line) => / ERR |unexpectedly|ECONNREFUSED|error:/i.test(line));
  assert.deepEqual(bad, [], lines.slice(-40).join("\n"));
}

// Long enough that a consumer which had not left the group would keep the next one
// waiting for most of it: the next start must join well within it.
const SESSION_TIMEOUT_MS = 30_000;

Deno.test({
  name:
    "SIGTERM to deno task dev's process group drains the services, stops the broker last, exits 0 without an error line, and the next start joins its group at once",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dataDir = await Deno.makeTempDir({ prefix: "payments-dev-stop-" });
    const ports = {
      producer: freePort("127.0.0.1"),
      consumer: freePort("127.0.0.1"),
      kafka: freePort("127.0.0.1"),
      prometheus: freePort("127.0.0.1"),
      alertmanager: freePort("127.0.0.1"),
    };
    const { KAFKA_BROKERS: _, LOG_FORMAT: _format, ...inherited } = Deno.env.toObject();
    const env = {
      ...inherited,
      PRODUCER_PORT: String(ports.producer),
      CONSUMER_PORT: String(ports.consumer),
      KAFKA_PORT: String(ports.kafka),
      KAFKA_DATA_DIR: `${dataDir}/kafka`,
      PROMETHEUS_PORT: String(ports.prometheus),
      PROMETHEUS_DATA_DIR: `${dataDir}/prometheus`,
      ALERTMANAGER_PORT: String(ports.alertmanager),
      ALERTMANAGER_DATA_DIR: `${dataDir}/alertmanager`,
      CONSUMER_STATE_DIR: `${dataDir}/consumer-state`,
      DEV_LOG_DIR: `${dataDir}/logs`,
      CONSUMER_SESSION_TIMEOUT_MS: String(SESSION_TIMEOUT_MS),
      ...devJaegerEnv(dataDir).env,
    };
    const ready = async (dev: DevSession) => {
      await dev.waitForLine(/Kafka ready on/, 240_000);
      await waitUntilOk(`http://127.0.0.1:${ports.producer}/ready`);
      await waitUntilOk(`http://127.0.0.1:${ports.consumer}/ready`);
    };
    let dev = startDev([], env);
    try {
      await ready(dev);
      const code = await dev.stopGroup("SIGTERM");
      const lines = dev.lines();
      assert.equal(code, 0, lines.slice(-40).join("\n"));
      assertNoErrors(lines);
      const index = (pattern: RegExp) => lines.findIndex((line) => pattern.test(line));
      const brokerStopped = index(/^\[kafka\] +broker stopped \(exit code 0\); log: /);
      assert.ok(brokerStopped > 0, lines.slice(-20).join("\n"));
      // The services drained (the consumer left its group) while the broker was up.
      for (
        const drained of [
          /^\[producer\].*Received SIGINT: finishing in-flight requests/,
          /^\[producer\].*Producer stopped/,
          /^\[consumer\].*Received SIGINT: finishing in-flight records and leaving the group/,
        ]
      ) {
        const at = index(drained);
        assert.ok(at > 0 && at < brokerStopped, `${drained} before the broker stopped`);
      }
      assert.equal(brokerStopped, lines.length - 1, "the broker's stop is the last line");
      for (const [name, port] of Object.entries(ports)) {
        assert.equal(await isListening(port), false, `${name} still listens on ${port}`);
      }

      // The next start, on the same broker data: the group has no member left to wait for.
      dev = startDev([], env);
      await ready(dev);
      const serving = await dev.waitForLine(/^\[consumer\].*Consumer HTTP server on port/);
      const joined = await dev.waitForLine(/^\[consumer\].*Consumer running in group/);
      const waited = timeOf(joined) - timeOf(serving);
      assert.ok(
        waited < SESSION_TIMEOUT_MS * 2 / 3,
        `joined ${waited} ms after start: a member of the last session was still in the group`,
      );
      assert.equal(await dev.interrupt(), 0, dev.lines().slice(-30).join("\n"));
      assertNoErrors(dev.lines());
    } finally {
      await dev.interrupt();
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    }
  },
});

Deno.test({
  name:
    "SIGTERM to the producer alone, or SIGHUP to the consumer alone, stops it cleanly and deno task dev stops the rest and exits 0",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const brokers = sharedBrokers();
    for (const [service, signal] of [["producer", "SIGTERM"], ["consumer", "SIGHUP"]] as const) {
      const topics = uniqueTopics(`dev-stop-${service}`);
      await createTopics(brokers, topics, 1);
      const ports = { producer: freePort("127.0.0.1"), consumer: freePort("127.0.0.1") };
      const logDir = await Deno.makeTempDir({ prefix: "payments-dev-stop-logs-" });
      const { LOG_FORMAT: _format, ...inherited } = Deno.env.toObject();
      const dev = startDev([], {
        ...inherited,
        KAFKA_BROKERS: brokers.join(","),
        ...topicsEnv(topics),
        CONSUMER_GROUP_ID: `dev-stop-${crypto.randomUUID().slice(0, 8)}`,
        PRODUCER_PORT: String(ports.producer),
        CONSUMER_PORT: String(ports.consumer),
        PROMETHEUS_PORT: String(freePort("127.0.0.1")),
        ALERTMANAGER_PORT: String(freePort("127.0.0.1")),
        DEV_LOG_DIR: logDir,
        LAG_MONITOR_ENABLED: "false",
        ...devJaegerEnv(logDir).env,
      });
      try {
        await waitUntilOk(`http://127.0.0.1:${ports.producer}/ready`);
        await waitUntilOk(`http://127.0.0.1:${ports.consumer}/ready`);
        // The service's own process, as `kill <pid>` reaches it.
        Deno.kill(await descendantPid(dev.pid, `${service}/main.ts`), signal);
        const timer = setTimeout(() => dev.stopGroup("SIGKILL"), 90_000);
        const code = await dev.exited;
        clearTimeout(timer);
        const lines = dev.lines();
        assert.equal(code, 0, lines.slice(-30).join("\n"));
        assertNoErrors(lines);
        assert.ok(
          lines.some((line) => new RegExp(`^\\[${service}\\].*Received ${signal}`).test(line)),
          `the ${service} drained on ${signal}:\n${lines.slice(-30).join("\n")}`,
        );
        assert.ok(lines.includes(`the ${service} stopped; stopping the rest`));
        for (const port of Object.values(ports)) assert.equal(await isListening(port), false);
      } finally {
        await dev.interrupt();
        await deleteTopics(brokers, [topics.requests, topics.results, topics.dlq]);
        await Deno.remove(logDir, { recursive: true }).catch(() => {});
      }
    }
  },
});
