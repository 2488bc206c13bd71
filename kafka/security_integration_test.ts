/**
 * The launcher's authenticated listeners: SASL_PLAINTEXT and SASL_SSL (certificates made
 * by openssl in the test), each with PLAIN and SCRAM-SHA-512 users, proven with kafkajs.
 */
import assert from "node:assert/strict";
import { Kafka, logLevel, type SASLOptions } from "kafkajs";
import { createTestCertificates } from "./certs.ts";
import { startThrowawayBroker } from "@payments/testing/brokers";
import { withTimeout } from "@payments/testing/wait";
import { muteKafkajsTimeoutWarning } from "@payments/shared/kafkajs_quiet";

// kafkajs warns of a negative timer on every connection under Deno.
muteKafkajsTimeoutWarning();

const topic = "secured";
const users = { alice: "alice-Secret-1", bob: "bob-Secret-2" };

type Mechanism = "plain" | "scram-sha-512";

function client(bootstrap: string, sasl: SASLOptions, ca?: string): Kafka {
  return new Kafka({
    clientId: "security-test",
    brokers: [bootstrap],
    logLevel: logLevel.NOTHING,
    connectionTimeout: 3000,
    retry: { retries: 0 },
    ssl: ca ? { ca: [ca] } : false,
    sasl,
  });
}

async function produceOnce(kafka: Kafka): Promise<string> {
  const producer = kafka.producer();
  try {
    await producer.connect();
    const [meta] = await producer.send({ topic, acks: -1, messages: [{ value: "hello" }] });
    return meta!.baseOffset!;
  } finally {
    await producer.disconnect().catch(() => {});
  }
}

for (const protocol of ["SASL_PLAINTEXT", "SASL_SSL"] as const) {
  Deno.test(`a ${protocol} broker accepts PLAIN and SCRAM-SHA-512 users and rejects a wrong password`, async (t) => {
    const certDir = await Deno.makeTempDir({ prefix: "payments-certs-" });
    try {
      await withTimeout(
        (async () => {
          const certs = protocol === "SASL_SSL" ? await createTestCertificates(certDir) : undefined;
          const ca = certs ? await Deno.readTextFile(certs.caFile) : undefined;
          await using broker = await startThrowawayBroker({
            topics: [{ topic, numPartitions: 1 }],
            security: {
              protocol,
              users,
              ...(certs ? { keystoreFile: certs.keystoreFile } : {}),
            },
          });
          assert.notEqual(broker.bootstrap, broker.internalBootstrap);
          for (const mechanism of ["plain", "scram-sha-512"] as Mechanism[]) {
            await t.step(`${mechanism}: the right password produces with acks=-1`, async () => {
              const sasl = { mechanism, username: "alice", password: users.alice } as SASLOptions;
              assert.match(await produceOnce(client(broker.bootstrap, sasl, ca)), /^\d+$/);
            });
            await t.step(
              `${mechanism}: a wrong password fails with an authentication error`,
              async () => {
                const sasl = { mechanism, username: "bob", password: "not-bobs" } as SASLOptions;
                const error = await produceOnce(client(broker.bootstrap, sasl, ca)).catch((e) => e);
                assert.equal(error?.name, "KafkaJSSASLAuthenticationError", String(error));
                assert.match(error.message, /authentication failed/i);
              },
            );
          }
          await t.step("a client without SASL cannot produce", async () => {
            const kafka = new Kafka({
              clientId: "security-test",
              brokers: [broker.bootstrap],
              logLevel: logLevel.NOTHING,
              connectionTimeout: 2000,
              requestTimeout: 3000,
              retry: { retries: 0 },
              ssl: ca ? { ca: [ca] } : false,
            });
            await assert.rejects(
              withTimeout(produceOnce(kafka), 20_000, "unauthenticated produce"),
            );
          });
          if (ca) {
            await t.step("a client that does not trust the CA is refused by TLS", async () => {
              const sasl = {
                mechanism: "plain",
                username: "alice",
                password: users.alice,
              } as const;
              const kafka = new Kafka({
                clientId: "security-test",
                brokers: [broker.bootstrap],
                logLevel: logLevel.NOTHING,
                connectionTimeout: 3000,
                retry: { retries: 0 },
                ssl: true,
                sasl,
              });
              await assert.rejects(withTimeout(produceOnce(kafka), 20_000, "untrusted TLS"));
            });
          }
          await t.step(
            "users survive a restart (SCRAM credentials live in the metadata log)",
            async () => {
              await broker.restart();
              const sasl = {
                mechanism: "scram-sha-512",
                username: "bob",
                password: users.bob,
              } as const;
              assert.match(await produceOnce(client(broker.bootstrap, sasl, ca)), /^\d+$/);
            },
          );
        })(),
        150_000,
        `${protocol} broker scenario`,
      );
    } finally {
      await Deno.remove(certDir, { recursive: true });
    }
  });
}

Deno.test("createTestCertificates writes an X.509 v3 broker certificate with SANs and a PKCS#8 key", async () => {
  const dir = await Deno.makeTempDir({ prefix: "payments-certs-" });
  try {
    const certs = await createTestCertificates(dir);
    const out = await new Deno.Command("openssl", {
      args: ["x509", "-in", certs.certFile, "-noout", "-text"],
      stdout: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout);
    assert.match(text, /Version: 3 \(0x2\)/);
    assert.match(text, /DNS:localhost, IP Address:127\.0\.0\.1/);
    const verify = await new Deno.Command("openssl", {
      args: ["verify", "-CAfile", certs.caFile, certs.certFile],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.ok(verify.success, new TextDecoder().decode(verify.stderr));
    const keystore = await Deno.readTextFile(certs.keystoreFile);
    assert.ok(keystore.startsWith("-----BEGIN PRIVATE KEY-----"));
    assert.equal(keystore.match(/BEGIN CERTIFICATE/g)?.length, 2);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
