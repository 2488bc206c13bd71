import assert from "node:assert/strict";
import { Kafka, logLevel } from "kafkajs";
import { DEFAULT_PARTITIONS, DEFAULT_TOPICS } from "@payments/shared/topics";
import { freePort, startThrowawayBroker } from "@payments/testing/brokers";
import { withTimeout } from "@payments/testing/wait";
import { ensureKafkaJars } from "./jars.ts";
import { KafkaLauncherError, startKafka } from "./launcher.ts";
import { muteKafkajsTimeoutWarning } from "@payments/shared/kafkajs_quiet";

// kafkajs warns of a negative timer on every connection under Deno.
muteKafkajsTimeoutWarning();

const TOPICS = Object.values(DEFAULT_TOPICS);

/** kcat is the independent client: it shares no code with kafkajs or the launcher. */
async function kcat(args: string[]): Promise<string> {
  const out = await new Deno.Command("kcat", { args, stdout: "piped", stderr: "piped" }).output()
    .catch((error) => {
      throw new Error("kcat is missing: install it with `apt-get install kcat`", { cause: error });
    });
  const stderr = new TextDecoder().decode(out.stderr);
  assert.ok(out.success, `kcat ${args.join(" ")} failed: ${stderr}`);
  return new TextDecoder().decode(out.stdout);
}

/** Kafka's own ConfigCommand (from the broker's jars) describing a topic's configuration. */
async function describeTopicConfig(bootstrap: string, topic: string): Promise<string> {
  const lib = await ensureKafkaJars();
  const out = await new Deno.Command("java", {
    args: [
      "-cp",
      `${lib}/*`,
      "kafka.admin.ConfigCommand",
      "--bootstrap-server",
      bootstrap,
      "--entity-type",
      "topics",
      "--entity-name",
      topic,
      "--describe",
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  return new TextDecoder().decode(out.stdout);
}

Deno.test("a throw-away broker serves the pipeline's topics with 6 partitions and keeps records across a restart", async (t) => {
  let dataDir = "";
  await withTimeout(
    (async () => {
      await using broker = await startThrowawayBroker();
      dataDir = broker.dataDir;
      assert.match(broker.bootstrap, /^127\.0\.0\.1:\d+$/);

      await t.step("kcat sees the pipeline's topics with 6 partitions each", async () => {
        const metadata = JSON.parse(await kcat(["-b", broker.bootstrap, "-L", "-J"])) as {
          topics: { topic: string; partitions: unknown[] }[];
        };
        for (const name of TOPICS) {
          const topic = metadata.topics.find((x) => x.topic === name);
          assert.ok(topic, `kcat does not list ${name}`);
          assert.equal(topic.partitions.length, DEFAULT_PARTITIONS, name);
        }
      });

      await t.step(
        "Kafka's own tool sees the changelog compacted and kept for 7 days",
        async () => {
          const described = await describeTopicConfig(broker.bootstrap, DEFAULT_TOPICS.decisions);
          assert.match(described, /cleanup\.policy=compact,delete/);
          assert.match(described, /retention\.ms=604800000/);
        },
      );

      const kafka = new Kafka({
        clientId: "launcher-test",
        brokers: [broker.bootstrap],
        logLevel: logLevel.NOTHING,
      });

      await t.step("kafkajs sees the same topics", async () => {
        const admin = kafka.admin();
        await admin.connect();
        try {
          const { topics } = await admin.fetchTopicMetadata({ topics: TOPICS });
          assert.deepEqual(
            topics.map((x) => [x.name, x.partitions.length]).sort(),
            TOPICS.map((x) => [x, DEFAULT_PARTITIONS]).sort(),
          );
        } finally {
          await admin.disconnect();
        }
      });

      await t.step("a record produced before a restart is there after it", async () => {
        const producer = kafka.producer({ idempotent: true });
        await producer.connect();
        try {
          await producer.send({
            topic: DEFAULT_TOPICS.requests,
            acks: -1,
            messages: [{ key: "P-restart", value: "survives", partition: 2 }],
          });
        } finally {
          await producer.disconnect();
        }
        const pidBefore = broker.pid;
        await broker.restart();
        assert.notEqual(broker.pid, pidBefore);
        const out = await readPartition2(broker.bootstrap);
        assert.equal(out, "P-restart=survives\n");
      });

      await t.step("after a crash (SIGKILL) and a start the record is still there", async () => {
        await broker.crash();
        assert.equal(broker.running, false);
        await broker.start();
        const out = await readPartition2(broker.bootstrap);
        assert.equal(out, "P-restart=survives\n");
      });

      await t.step("restarting re-creates no topic and loses no partition", async () => {
        const metadata = JSON.parse(await kcat(["-b", broker.bootstrap, "-L", "-J"])) as {
          topics: { topic: string; partitions: unknown[] }[];
        };
        const names = metadata.topics.map((x) => x.topic).filter((x) => !x.startsWith("__"));
        assert.deepEqual(names.sort(), [...TOPICS].sort());
      });
    })(),
    120_000,
    "throw-away broker scenario",
  );
  await assert.rejects(Deno.stat(dataDir), Deno.errors.NotFound, "stop() keeps the temp dir");
});

Deno.test("startKafka refuses a port in use with one clear sentence", async () => {
  const port = freePort();
  using listener = Deno.listen({ hostname: "127.0.0.1", port });
  const dataDir = await Deno.makeTempDir({ prefix: "payments-kafka-" });
  try {
    const error = await startKafka({ dataDir, port }).catch((e) => e);
    assert.ok(error instanceof KafkaLauncherError, String(error));
    assert.equal(
      error.message,
      `Cannot start Kafka: client port ${port} on 127.0.0.1 is already in use ` +
        "(another broker running?); stop that process or choose another port.",
    );
    assert.ok(listener.addr);
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("startKafka gives up after its start timeout with the broker log's tail and no JVM left", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "payments-kafka-" });
  try {
    const error = await withTimeout(
      startKafka({ dataDir, port: freePort(), startTimeoutMs: 300 }).catch((e) => e),
      60_000,
      "startKafka with a 300 ms timeout",
    );
    assert.ok(error instanceof KafkaLauncherError, String(error));
    const [sentence] = error.message.split("\n");
    assert.match(
      sentence!,
      /^Cannot start Kafka on 127\.0\.0\.1:\d+: it did not answer within 300 ms/,
    );
    assert.match(sentence!, /last lines of .*broker\.log:$/);
    const pids = await javaPidsUsing(dataDir);
    assert.deepEqual(pids, [], "a broker JVM outlived the failed start");
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("resolved jars are reused without Maven", async () => {
  const started = performance.now();
  const lib = await ensureKafkaJars({ mvn: "/nonexistent/mvn" });
  assert.ok(performance.now() - started < 1000);
  const jars = [...Deno.readDirSync(lib)].map((e) => e.name);
  assert.ok(jars.some((j) => /^kafka_2\.13-.*\.jar$/.test(j)), "broker jar missing");
  assert.ok(jars.some((j) => /^kafka-tools-.*\.jar$/.test(j)), "kafka-tools jar missing");
  assert.ok(jars.some((j) => /^log4j-slf4j2?-impl-.*\.jar$/.test(j)), "SLF4J binding missing");
});

/** Pids of live java processes whose command line mentions `dir`. */
async function javaPidsUsing(dir: string): Promise<number[]> {
  const pids: number[] = [];
  for await (const entry of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const cmdline = await Deno.readTextFile(`/proc/${entry.name}/cmdline`);
      if (cmdline.includes("kafka.Kafka") && cmdline.includes(dir)) pids.push(Number(entry.name));
    } catch {
      // the process exited while we looked
    }
  }
  return pids;
}

/** `key=value` lines of partition 2 of the requests topic, read by kcat. */
function readPartition2(bootstrap: string): Promise<string> {
  return kcat([
    "-b",
    bootstrap,
    "-C",
    "-t",
    DEFAULT_TOPICS.requests,
    "-p",
    "2",
    "-o",
    "beginning",
    "-e",
    "-q",
    "-f",
    "%k=%s\n",
  ]);
}
