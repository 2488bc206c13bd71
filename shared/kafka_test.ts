import assert from "node:assert/strict";
import { loadSharedConfig as loadConfig } from "./config.ts";
import { ConfigError } from "./env.ts";
import type { LogRecord } from "@logtape/logtape";
import { logLevel } from "kafkajs";
import { configureLogging } from "./logging.ts";
import {
  createLogTapeLogCreator,
  kafkaClientConfig,
  logTapeLogCreator,
  readKafkaCa,
} from "./kafka.ts";

Deno.test("plaintext settings give kafkajs no TLS and no SASL", () => {
  const options = kafkaClientConfig(loadConfig({ KAFKA_BROKERS: "a:9092,b:9093" }).kafka);
  assert.deepEqual(options.brokers, ["a:9092", "b:9093"]);
  assert.equal(options.ssl, false);
  assert.equal(options.sasl, undefined);
});

Deno.test("SASL_SSL with SCRAM maps to kafkajs' mechanism names and enables TLS", () => {
  const options = kafkaClientConfig(
    loadConfig({
      KAFKA_SECURITY_PROTOCOL: "SASL_SSL",
      SASL_MECHANISM: "SCRAM-SHA-256",
      SASL_USERNAME: "u",
      SASL_PASSWORD: "p",
    }).kafka,
    "payment-producer",
  );
  assert.equal(options.clientId, "payment-producer");
  assert.equal(options.ssl, true);
  assert.deepEqual(options.sasl, { mechanism: "scram-sha-256", username: "u", password: "p" });
});

Deno.test("a CA file that cannot be read fails at start and names the variable", async () => {
  const settings = loadConfig({
    KAFKA_SECURITY_PROTOCOL: "SSL",
    KAFKA_SSL_CA_FILE: "/nonexistent/ca.pem",
  }).kafka;
  await assert.rejects(
    readKafkaCa(settings),
    (error) =>
      error instanceof ConfigError &&
      /KAFKA_SSL_CA_FILE \/nonexistent\/ca\.pem/.test(error.message),
  );
});

Deno.test("a readable CA file is passed to kafkajs as PEM text", async () => {
  const path = await Deno.makeTempFile({ suffix: ".pem" });
  try {
    await Deno.writeTextFile(path, "-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n");
    const options = kafkaClientConfig(
      await readKafkaCa(
        loadConfig({ KAFKA_SECURITY_PROTOCOL: "SSL", KAFKA_SSL_CA_FILE: path }).kafka,
      ),
    );
    assert.deepEqual(options.ssl, { ca: [await Deno.readTextFile(path)] });
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("client options refuse a configured CA file that was not read, instead of reading it", () => {
  const settings = loadConfig({ KAFKA_SECURITY_PROTOCOL: "SSL", KAFKA_SSL_CA_FILE: "/a/ca.pem" })
    .kafka;
  assert.throws(() => kafkaClientConfig(settings), /KAFKA_SSL_CA_FILE \/a\/ca\.pem was not read/);
});

Deno.test("kafkajs logs land in LogTape; error responses it retries become warnings", async () => {
  const records: LogRecord[] = [];
  await using _logging = await configureLogging(
    { level: "debug", format: "json" },
    { stdout: false, extraSink: (record) => records.push(record) },
  );
  const log = logTapeLogCreator(logLevel.INFO);
  const entry = (namespace: string, message: string) => ({
    namespace,
    level: logLevel.ERROR,
    label: "ERROR",
    log: { message, timestamp: "", error: "There is no leader for this topic-partition" },
  });
  log(entry("Connection", "Response Produce(key: 0, version: 7)"));
  log(entry("Connection", "Connection error: connect ECONNREFUSED 127.0.0.1:9092"));
  // The consumer service logs each crash itself (consumer/crash.ts).
  log(entry("Consumer", "Crash: KafkaJSNotImplemented: Snappy compression not implemented"));
  log(entry("Consumer", "Restarting the consumer in 300ms"));
  assert.deepEqual(records.map((r) => [r.category.join("."), r.level]), [
    ["kafkajs.Connection", "warning"],
    ["kafkajs.Connection", "error"],
    ["kafkajs.Consumer", "warning"],
    ["kafkajs.Consumer", "warning"],
  ]);
  assert.equal(records[0]!.properties.error, "There is no leader for this topic-partition");
});

Deno.test("kafkajs' own lines about a refused login drop to debug", async () => {
  const records: LogRecord[] = [];
  await using _logging = await configureLogging(
    { level: "debug", format: "json" },
    { stdout: false, extraSink: (record) => records.push(record) },
  );
  logTapeLogCreator(logLevel.INFO)({
    namespace: "BrokerPool",
    level: logLevel.ERROR,
    label: "ERROR",
    log: {
      message: "Failed to connect to seed broker",
      timestamp: "",
      error: "SASL PLAIN authentication failed: Authentication failed",
    },
  });
  assert.deepEqual(records.map((r) => r.level), ["debug"]);
});

Deno.test("a send kafkajs retries is counted by protocol error; CONCURRENT_TRANSACTIONS logs only at debug", async () => {
  const records: LogRecord[] = [];
  await using _logging = await configureLogging(
    { level: "debug", format: "json" },
    { stdout: false, extraSink: (record) => records.push(record) },
  );
  const retried: string[] = [];
  const log = createLogTapeLogCreator({ onProducerRetry: (type) => retried.push(type) })(
    logLevel.INFO,
  );
  const concurrent =
    "The producer attempted to update a transaction while another concurrent operation on the same transaction was ongoing";
  const entry = (namespace: string, message: string, error?: string) => ({
    namespace,
    level: logLevel.ERROR,
    label: "ERROR",
    log: { message, timestamp: "", ...(error ? { error } : {}) },
  });
  log(entry("Connection", "Response AddPartitionsToTxn(key: 24, version: 1)", concurrent));
  log(entry("Producer", `Failed to send messages: ${concurrent}`));
  log(
    entry(
      "Producer",
      "Failed to send messages: This server is not the leader for that topic-partition",
    ),
  );
  log(entry("Producer", "Failed to send messages: something new"));
  log(
    entry("Producer", "Limiting retries for the idempotent producer may invalidate EoS guarantees"),
  );
  assert.deepEqual(retried, ["CONCURRENT_TRANSACTIONS", "NOT_LEADER_FOR_PARTITION", "unknown"]);
  assert.deepEqual(records.map((r) => r.level), [
    "debug",
    "debug",
    "warning",
    "warning",
    "debug",
  ]);
});

Deno.test("coordinator answers of a starting broker stay at debug, and one line of ours if they last", async () => {
  const records: LogRecord[] = [];
  await using _logging = await configureLogging(
    { level: "debug", format: "json" },
    { stdout: false, extraSink: (record) => records.push(record) },
  );
  let clock = 1_000_000;
  const log = createLogTapeLogCreator({}, { now: () => clock, coordinatorPatienceMs: 30_000 })(
    logLevel.INFO,
  );
  const answer = (request: string, error: string) =>
    log({
      namespace: "Connection",
      level: logLevel.ERROR,
      label: "ERROR",
      log: { message: `Response ${request}`, timestamp: "", error },
    });
  // A broker electing coordinators: every few seconds for 40 s.
  for (let second = 0; second <= 40; second += 4) {
    clock = 1_000_000 + second * 1000;
    answer("GroupCoordinator(key: 10, version: 2)", "The coordinator is not available");
    answer(
      "InitProducerId(key: 22, version: 1)",
      "The coordinator is loading and hence can't process requests",
    );
  }
  const levels = (r: LogRecord) => `${r.category.join(".")}:${r.level}`;
  const ours = records.filter((r) => r.category.join(".") === "kafka.coordinator");
  assert.equal(ours.length, 1, records.map(levels).join(" "));
  assert.equal(ours[0]!.level, "warning");
  assert.equal(ours[0]!.properties.seconds, 32);
  assert.ok(
    records.filter((r) => r.category[0] === "kafkajs").every((r) => r.level === "debug"),
    records.map(levels).join(" "),
  );

  // After a quiet spell, a short new streak says nothing above debug.
  records.length = 0;
  clock += 60_000;
  answer(
    "GroupCoordinator(key: 10, version: 2)",
    "This is not the correct coordinator for this group",
  );
  assert.deepEqual(records.map(levels), ["kafkajs.Connection:debug"]);
});
