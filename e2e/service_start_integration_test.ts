/**
 * How each service refuses to start: bad configuration and a taken port end the
 * process at once with one sentence on stderr, never a stack trace.
 */
import assert from "node:assert/strict";
import { freePort } from "@payments/testing/brokers";
import { runUntilExit } from "@payments/testing/services";

const SERVICES = [
  {
    name: "producer",
    portVariable: "PRODUCER_PORT",
    badConfig: { PRODUCER_PORT: "99999", PRODUCER_SEND_TIMEOUT_MS: "soon" },
    badVariables: ["PRODUCER_PORT", "PRODUCER_SEND_TIMEOUT_MS"],
  },
  {
    name: "consumer",
    portVariable: "CONSUMER_PORT",
    badConfig: { CONSUMER_PORT: "not-a-port", CONSUMER_FAILURE_RATE: "2" },
    badVariables: ["CONSUMER_PORT", "CONSUMER_FAILURE_RATE"],
  },
] as const;

async function run(service: "producer" | "consumer", env: Record<string, string>) {
  return await runUntilExit(service, { LAG_MONITOR_ENABLED: "false", LOG_LEVEL: "fatal", ...env });
}

for (const service of SERVICES) {
  Deno.test(`invalid configuration stops the ${service.name} with one message naming every bad variable`, async () => {
    const { code, stderr } = await run(service.name, service.badConfig);
    assert.equal(code, 2);
    assert.equal(stderr.split("\n").length, 1, stderr);
    for (const variable of service.badVariables) assert.match(stderr, new RegExp(variable));
  });

  Deno.test(`an unreadable KAFKA_SSL_CA_FILE stops the ${service.name} at start, naming it`, async () => {
    const { code, stderr } = await run(service.name, {
      KAFKA_SECURITY_PROTOCOL: "SSL",
      KAFKA_SSL_CA_FILE: "/nonexistent/ca.pem",
      KAFKA_BROKERS: `127.0.0.1:${freePort()}`,
    });
    assert.equal(code, 2);
    assert.equal(stderr.split("\n").length, 1, stderr);
    assert.match(
      stderr,
      /^Invalid configuration: Cannot read KAFKA_SSL_CA_FILE \/nonexistent\/ca\.pem: /,
    );
  });

  Deno.test(`a taken ${service.portVariable} stops the ${service.name} with one sentence`, async () => {
    const taken = Deno.listen({ hostname: "0.0.0.0", port: 0 });
    try {
      const { code, stderr } = await run(service.name, {
        [service.portVariable]: String(taken.addr.port),
        KAFKA_BROKERS: `127.0.0.1:${freePort()}`,
      });
      assert.equal(code, 1);
      assert.equal(
        stderr,
        `Cannot listen on port ${taken.addr.port} (${service.portVariable}): ` +
          "another process is listening there",
      );
    } finally {
      taken.close();
    }
  });
}
