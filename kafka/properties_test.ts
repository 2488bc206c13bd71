import assert from "node:assert/strict";
import { renderProperties, serverProperties } from "./properties.ts";

const base = { host: "127.0.0.1", port: 9092, controllerPort: 9093, logDir: "/data/kraft" };

Deno.test("serverProperties configures a single-node KRaft broker and controller", () => {
  const props = serverProperties(base);
  assert.equal(props.get("process.roles"), "broker,controller");
  assert.equal(props.get("controller.quorum.bootstrap.servers"), "127.0.0.1:9093");
  assert.equal(props.get("listeners"), "PLAINTEXT://127.0.0.1:9092,CONTROLLER://127.0.0.1:9093");
  assert.equal(props.get("advertised.listeners"), props.get("listeners"));
  assert.equal(props.get("log.dirs"), "/data/kraft");
  assert.equal(props.get("auto.create.topics.enable"), "false");
  assert.equal(props.get("group.initial.rebalance.delay.ms"), "0");
});

Deno.test("serverProperties gives every internal topic replication factor and min ISR 1", () => {
  const props = serverProperties(base);
  for (const topic of ["offsets.topic", "transaction.state.log", "share.coordinator.state.topic"]) {
    assert.equal(props.get(`${topic}.replication.factor`), "1", topic);
  }
  assert.equal(props.get("transaction.state.log.min.isr"), "1");
  assert.equal(props.get("share.coordinator.state.topic.min.isr"), "1");
  assert.ok(Number(props.get("offsets.topic.num.partitions")) <= 5);
});

Deno.test("serverProperties lets overrides win and adds new keys", () => {
  const props = serverProperties({
    ...base,
    overrides: { "num.partitions": 4, "log.retention.ms": 1000, "auto.create.topics.enable": true },
  });
  assert.equal(props.get("num.partitions"), "4");
  assert.equal(props.get("log.retention.ms"), "1000");
  assert.equal(props.get("auto.create.topics.enable"), "true");
});

Deno.test("renderProperties writes one key=value line per entry after a comment", () => {
  const text = renderProperties(new Map([["a.b", "1"], ["c", "x,y"]]));
  assert.deepEqual(text.split("\n").slice(1), ["a.b=1", "c=x,y", ""]);
  assert.match(text, /^# /);
});

Deno.test("renderProperties escapes what java.util.Properties would misread", () => {
  const text = renderProperties(
    new Map([["k=1:2", " lead"], ["path", "C:\\dir\\é"], ["multi", "a\nb"]]),
  );
  const lines = text.split("\n").slice(1);
  assert.equal(lines[0], "k\\=1\\:2=\\ lead");
  assert.equal(lines[1], "path=C:\\\\dir\\\\\\u00e9");
  assert.equal(lines[2], "multi=a\\nb");
});

Deno.test("serverProperties of a cluster node: static voters, replication factor 3, min ISR 2", () => {
  const props = serverProperties({
    ...base,
    nodeId: 2,
    voters: [1, 2, 3].map((id) => ({ id, host: "127.0.0.1", controllerPort: 9190 + id })),
    replicationFactor: 3,
    minInsyncReplicas: 2,
  });
  assert.equal(props.get("node.id"), "2");
  assert.equal(
    props.get("controller.quorum.voters"),
    "1@127.0.0.1:9191,2@127.0.0.1:9192,3@127.0.0.1:9193",
  );
  assert.equal(props.has("controller.quorum.bootstrap.servers"), false);
  for (const topic of ["offsets.topic", "transaction.state.log", "share.coordinator.state.topic"]) {
    assert.equal(props.get(`${topic}.replication.factor`), "3", topic);
  }
  assert.equal(props.get("transaction.state.log.min.isr"), "2");
  assert.equal(props.get("min.insync.replicas"), "2");
  assert.equal(props.get("default.replication.factor"), "3");
});

Deno.test("serverProperties of a SASL_SSL client listener keeps replication on a PLAINTEXT one", () => {
  const props = serverProperties({
    ...base,
    security: {
      protocol: "SASL_SSL",
      internalPort: 9094,
      plainUsers: { alice: "pw-a" },
      scram: true,
      keystoreFile: "/certs/broker.keystore.pem",
    },
  });
  assert.equal(
    props.get("listeners"),
    "CLIENT://127.0.0.1:9092,INTERNAL://127.0.0.1:9094,CONTROLLER://127.0.0.1:9093",
  );
  assert.equal(
    props.get("listener.security.protocol.map"),
    "CLIENT:SASL_SSL,INTERNAL:PLAINTEXT,CONTROLLER:PLAINTEXT",
  );
  assert.equal(props.get("inter.broker.listener.name"), "INTERNAL");
  assert.equal(props.get("sasl.enabled.mechanisms"), "PLAIN,SCRAM-SHA-512");
  assert.match(props.get("listener.name.client.plain.sasl.jaas.config")!, / user_alice="pw-a";$/);
  assert.equal(props.get("listener.name.client.ssl.keystore.type"), "PEM");
});

Deno.test("serverProperties refuses SASL users that would break the JAAS line", () => {
  const security = (plainUsers: Record<string, string>) => ({
    ...base,
    security: { protocol: "SASL_PLAINTEXT" as const, internalPort: 1, plainUsers, scram: false },
  });
  assert.throws(() => serverProperties(security({ "a b": "x" })), /user name/);
  assert.throws(() => serverProperties(security({ a: 'x"; evil' })), /quotes/);
});
