/**
 * Throw-away TLS material for a local SASL_SSL broker, made with `openssl`: a CA and a
 * broker certificate signed by it. The broker certificate is X.509 v3 with
 * `subjectAltName = DNS:localhost, IP:127.0.0.1` (Deno's rustls rejects certificates
 * without a SAN), and its key is unencrypted PKCS#8, which Kafka's PEM keystore reads.
 *
 * @example
 * ```ts
 * import { createTestCertificates } from "@payments/kafka/certs";
 * const certs = await createTestCertificates(await Deno.makeTempDir());
 * // certs.caFile for clients (KAFKA_SSL_CA_FILE), certs.keystoreFile for the broker
 * ```
 *
 * @module
 */
import { join } from "node:path";
import { KafkaLauncherError } from "./errors.ts";

/** Files written by {@linkcode createTestCertificates}. */
export interface TestCertificates {
  /** The CA certificate (PEM): what clients trust. */
  caFile: string;
  /** The broker certificate (PEM). */
  certFile: string;
  /** The broker's private key (PEM, PKCS#8, unencrypted). */
  keyFile: string;
  /** Key then certificate chain in one PEM file: Kafka's `ssl.keystore.type=PEM` keystore. */
  keystoreFile: string;
}

const BROKER_EXTENSIONS = [
  "basicConstraints = critical, CA:FALSE",
  "keyUsage = critical, digitalSignature, keyEncipherment",
  "extendedKeyUsage = serverAuth, clientAuth",
  "subjectAltName = DNS:localhost, IP:127.0.0.1",
  "subjectKeyIdentifier = hash",
  "authorityKeyIdentifier = keyid",
].join("\n") + "\n";

/** Writes a CA and a broker certificate for `localhost`/`127.0.0.1` into `dir`. */
export async function createTestCertificates(
  dir: string,
  options: { days?: number } = {},
): Promise<TestCertificates> {
  const days = String(options.days ?? 2);
  const path = (name: string) => join(dir, name);
  await Deno.mkdir(dir, { recursive: true });
  await openssl([
    "genpkey",
    "-algorithm",
    "RSA",
    "-pkeyopt",
    "rsa_keygen_bits:2048",
    "-out",
    path("ca.key"),
  ]);
  await openssl([
    "req",
    "-x509",
    "-new",
    "-key",
    path("ca.key"),
    "-sha256",
    "-days",
    days,
    "-subj",
    "/CN=payments-test-ca",
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
    "-out",
    path("ca.pem"),
  ]);
  await openssl([
    "genpkey",
    "-algorithm",
    "RSA",
    "-pkeyopt",
    "rsa_keygen_bits:2048",
    "-out",
    path("broker.key"),
  ]);
  await openssl([
    "req",
    "-new",
    "-key",
    path("broker.key"),
    "-subj",
    "/CN=localhost",
    "-out",
    path("broker.csr"),
  ]);
  await Deno.writeTextFile(path("broker.ext"), BROKER_EXTENSIONS);
  await openssl([
    "x509",
    "-req",
    "-in",
    path("broker.csr"),
    "-CA",
    path("ca.pem"),
    "-CAkey",
    path("ca.key"),
    "-CAcreateserial",
    "-days",
    days,
    "-sha256",
    "-extfile",
    path("broker.ext"),
    "-out",
    path("broker.pem"),
  ]);
  const key = await Deno.readTextFile(path("broker.key"));
  if (!key.includes("BEGIN PRIVATE KEY")) {
    throw new KafkaLauncherError(`openssl wrote ${path("broker.key")} without a PKCS#8 header`);
  }
  const chain = await Deno.readTextFile(path("broker.pem")) +
    await Deno.readTextFile(path("ca.pem"));
  await Deno.writeTextFile(path("broker.keystore.pem"), key + chain);
  return {
    caFile: path("ca.pem"),
    certFile: path("broker.pem"),
    keyFile: path("broker.key"),
    keystoreFile: path("broker.keystore.pem"),
  };
}

async function openssl(args: string[]): Promise<void> {
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command("openssl", { args, stdout: "piped", stderr: "piped" }).output();
  } catch (error) {
    throw new KafkaLauncherError(
      "Cannot create test certificates: `openssl` is not on PATH; install it with " +
        "`apt-get install openssl`.",
      { cause: error },
    );
  }
  if (!out.success) {
    throw new KafkaLauncherError(
      `Cannot create test certificates: openssl ${args[0]} exited with code ${out.code}: ` +
        new TextDecoder().decode(out.stderr).trim(),
    );
  }
}
