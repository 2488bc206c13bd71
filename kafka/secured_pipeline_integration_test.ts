/**
 * The producer and the consumer against an authenticated broker (SASL_PLAINTEXT with
 * PLAIN, SASL_SSL with SCRAM-SHA-512 and a CA made by openssl): with the right
 * credentials a payment flows from HTTP to a committed result; with a wrong password
 * both stay up, say once per attempt which mechanism and user failed, keep /ready at
 * 503 and retry with backoff; with the credentials fixed they recover. No captured log
 * line ever contains the SASL password, the wrong password or an API key.
 */
import assert from "node:assert/strict";
import { createTestCertificates } from "./certs.ts";
import { startThrowawayBroker } from "@payments/testing/brokers";
import { withTimeout } from "@payments/testing/wait";
import { readCommitted } from "@payments/testing/kcat";
import { reportFigures } from "@payments/testing/report";
import { type ServiceProcess, startService } from "@payments/testing/services";

const USER = "payments-svc";
const PASSWORD = `pw-${crypto.randomUUID()}`;
const WRONG = `wrong-${crypto.randomUUID()}`;
const API_KEY = `key-${crypto.randomUUID()}`;
const SECRETS = [PASSWORD, WRONG, API_KEY];
const WAIT_WRONG_MS = 12_000;

const CASES = [
  { protocol: "SASL_PLAINTEXT", mechanism: "PLAIN" },
  { protocol: "SASL_SSL", mechanism: "SCRAM-SHA-512" },
] as const;

for (const { protocol, mechanism } of CASES) {
  Deno.test(`producer and consumer over ${protocol} (${mechanism}): work with the right password, wait and retry with a wrong one, never log secrets`, async (t) => {
    const certDir = await Deno.makeTempDir({ prefix: "payments-certs-" });
    const captured: ServiceProcess[] = [];
    try {
      await withTimeout(
        (async () => {
          const certs = protocol === "SASL_SSL" ? await createTestCertificates(certDir) : undefined;
          await using broker = await startThrowawayBroker({
            security: {
              protocol,
              users: { [USER]: PASSWORD },
              mechanisms: [mechanism],
              ...(certs ? { keystoreFile: certs.keystoreFile } : {}),
            },
          });
          const env = (password: string) => ({
            KAFKA_BROKERS: broker.bootstrap,
            KAFKA_SECURITY_PROTOCOL: protocol,
            SASL_MECHANISM: mechanism,
            SASL_USERNAME: USER,
            SASL_PASSWORD: password,
            ...(certs ? { KAFKA_SSL_CA_FILE: certs.caFile } : {}),
            API_KEYS: API_KEY,
            KAFKA_CONNECTION_TIMEOUT_MS: "2000",
            KAFKA_REQUEST_TIMEOUT_MS: "5000",
            CONSUMER_SESSION_TIMEOUT_MS: "6000",
            LAG_MONITOR_ENABLED: "false",
            LOG_LEVEL: "debug",
          });
          const start = async (name: "producer" | "consumer", password: string, ready: boolean) => {
            const service = await startService(name, { env: env(password), waitReady: ready });
            captured.push(service);
            return service;
          };

          await t.step(
            "with a wrong password both stay up, /ready 503, one clear line per attempt, backoff",
            async () => {
              const producer = await start("producer", WRONG, false);
              const consumer = await start("consumer", WRONG, false);
              await new Promise((r) => setTimeout(r, WAIT_WRONG_MS));
              const problems: string[] = [];
              for (const service of [producer, consumer]) {
                assert.equal(
                  service.hasExited,
                  false,
                  `${service.name} exited:\n${service.tail()}`,
                );
                const ready = await fetch(`${service.url}/ready`);
                await ready.body?.cancel();
                assert.equal(ready.status, 503, `${service.name} /ready`);
                const auth = service.lines().filter((l) => /authenticat/i.test(l));
                const errors = auth.filter((l) => /"level":"(error|fatal)"/.test(l));
                const clear = auth.filter((l) => namesMechanism(l, mechanism) && l.includes(USER));
                reportFigures(`wrong SASL password (${protocol})`, {
                  service: service.name,
                  seconds: WAIT_WRONG_MS / 1000,
                  authentication_lines: auth.length,
                  authentication_error_lines: errors.length,
                  lines_naming_mechanism_and_user: clear.length,
                  sample: (clear[0] ?? auth[auth.length - 1])?.slice(0, 400),
                });
                if (auth.length === 0) {
                  problems.push(`${service.name} logs no authentication failure`);
                } else if (clear.length === 0) {
                  problems.push(
                    `${service.name}: no line names mechanism ${mechanism} and user ${USER}`,
                  );
                }
                // Backoff, not a crash loop: at most one failed attempt logged per second.
                if (errors.length > WAIT_WRONG_MS / 1000) {
                  problems.push(
                    `${service.name}: ${errors.length} error lines in ${WAIT_WRONG_MS} ms`,
                  );
                }
              }
              assert.deepEqual(problems, []);
              await Promise.all([producer.stop(), consumer.stop()]);
            },
          );

          await t.step(
            "with the right password a payment goes from HTTP to a committed result",
            async () => {
              const producer = await start("producer", PASSWORD, true);
              const consumer = await start("consumer", PASSWORD, true);
              const id = `SASL-${crypto.randomUUID().slice(0, 8)}`;
              const unauthorized = await fetch(`${producer.url}/payments`, {
                method: "POST",
                headers: { "content-type": "application/json" },
                body: JSON.stringify({
                  payment_id: id,
                  amount: 5,
                  merchant_id: "M",
                  customer_id: "C",
                }),
              });
              await unauthorized.body?.cancel();
              assert.equal(unauthorized.status, 401);
              const response = await fetch(`${producer.url}/payments`, {
                method: "POST",
                headers: { "content-type": "application/json", authorization: `Bearer ${API_KEY}` },
                body: JSON.stringify({
                  payment_id: id,
                  amount: 5,
                  merchant_id: "M",
                  customer_id: "C",
                }),
              });
              assert.equal(response.status, 202, await response.text());
              const deadline = Date.now() + 30_000;
              let outcome: string | undefined;
              while (!outcome && Date.now() < deadline) {
                const results = await readCommitted(broker.internalBootstrap, "payment_results");
                outcome = results.map((r) => JSON.parse(r.payload!)).find((r) =>
                  r.payment_id === id
                )?.outcome;
                if (!outcome) await new Promise((r) => setTimeout(r, 500));
              }
              assert.equal(outcome, "APPROVED");
              await Promise.all([producer.stop(), consumer.stop()]);
            },
          );
        })(),
        150_000,
        `${protocol} pipeline scenario`,
      );
    } finally {
      await Promise.all(captured.map((s) => s.stop()));
      await Deno.remove(certDir, { recursive: true });
    }
    const leaks = captured.flatMap((s) =>
      s.lines().filter((l) => SECRETS.some((secret) => l.includes(secret))).map((l) =>
        `${s.name}: ${l}`
      )
    );
    reportFigures(`secret leak grep (${protocol})`, {
      services: captured.length,
      lines: captured.reduce((n, s) => n + s.lines().length, 0),
      leaks: leaks.length,
    });
    assert.deepEqual(leaks, [], "a log line contains the SASL password or an API key");
  });
}

/** "SCRAM-SHA-512" also matches kafkajs' "SCRAM SHA512". */
function namesMechanism(line: string, mechanism: string): boolean {
  const squash = (text: string) => text.toUpperCase().replace(/[^A-Z0-9]/g, "");
  return squash(line).includes(squash(mechanism));
}
