/**
 * The consumer's state against a real broker and real subprocesses: payment ids are
 * remembered for the whole retention however many payments come in between, across
 * restarts, on an empty state directory (rebuilt from the changelog alone) and after
 * a corrupted store file; a SIGKILL leaves every store in agreement with the
 * changelog (read back with kcat); a missing or wrong changelog topic stops the
 * consumer before it consumes anything.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { readAnswers } from "@payments/testing/answers";
import { freePort } from "@payments/testing/brokers";
import { assertExactlyOnce, judgeAnswers } from "@payments/testing/exactly_once";
import { readCommitted } from "@payments/testing/kcat";
import { paymentEvent } from "@payments/testing/payments";
import { produce } from "@payments/testing/produce";
import {
  consumerEnv,
  runUntilExit,
  type ServiceProcess,
  startConsumer,
} from "@payments/testing/services";
import { type TestKafka, testKafka } from "@payments/testing/test_kafka";
import { eventually } from "@payments/testing/wait";
import { openClaimStore } from "./payments/claim_store.ts";
import { storeFile } from "./tasks/task_manager.ts";

/** Resolves once `count` results are committed (both stages done with them). */
async function answered(t: TestKafka, count: number, timeoutMs = 90_000) {
  await eventually(
    async () => (await readCommitted(t.brokers.join(","), t.topics.results)).length >= count,
    timeoutMs,
    `${count} inputs answered`,
  );
}

async function outcomesOf(t: TestKafka, paymentId: string): Promise<string[]> {
  const results = await readCommitted(t.brokers.join(","), t.topics.results);
  return results
    .map((r) => JSON.parse(r.payload!) as { payment_id: string; outcome: string })
    .filter((r) => r.payment_id === paymentId)
    .map((r) => r.outcome);
}

/** The line a consumer logged when a payment task was ready (its restore). */
function restoreLine(service: ServiceProcess, partition: number) {
  const line = service.lines().find((l) =>
    l.includes(`"message":"Task payments-${partition} ready in`)
  );
  assert.ok(line, `a restore line for partition ${partition}:\n${service.tail()}`);
  return JSON.parse(line) as { records: number; kind: string };
}

/** The newest committed record of each key of a changelog partition, progress records left out. */
function latestRows(
  records: { partition: number; key: string | null; payload: string | null }[],
  partition: number,
) {
  const rows = new Map<string, Record<string, unknown>>();
  for (const r of records) {
    if (r.partition !== partition || r.key === null || r.key === "#progress") continue;
    rows.set(r.key, JSON.parse(r.payload!));
  }
  return rows;
}

Deno.test("with a cache of 10 ids a payment repeated after 20,000 newer ones is DUPLICATE, also after a restart and on an empty state directory", async () => {
  await using t = await testKafka("retention", 1);
  const first = paymentEvent();
  const newer = Array.from({ length: 20_000 }, () => paymentEvent());
  await produce(t, [first, ...newer, first]);
  const window = { CONSUMER_DEDUP_WINDOW: "10", CONSUMER_MAX_RECORDS_PER_TRANSACTION: "500" };

  let consumer = await startConsumer(t, {
    env: { ...window, CONSUMER_STATE_DIR: t.stateDir },
  });
  await answered(t, 20_002);
  assert.equal(await consumer.stop(), 0, "clean exit on SIGTERM");
  assert.deepEqual(await outcomesOf(t, first.payment_id), ["APPROVED", "DUPLICATE"]);

  // Restart on the same disk: the store is read on from its checkpoint.
  await produce(t, [first]);
  consumer = await startConsumer(t, {
    env: { ...window, CONSUMER_STATE_DIR: t.stateDir },
  });
  await answered(t, 20_003);
  const fromCheckpoint = restoreLine(consumer, 0);
  assert.equal(await consumer.stop(), 0);
  assert.equal(fromCheckpoint.kind, "checkpoint");
  assert.ok(fromCheckpoint.records < 10, `read ${fromCheckpoint.records} records, not the history`);
  assert.deepEqual(await outcomesOf(t, first.payment_id), ["APPROVED", "DUPLICATE", "DUPLICATE"]);

  // A new machine: nothing local, the store is rebuilt from the changelog alone.
  await produce(t, [first]);
  consumer = await startConsumer(t, { env: window });
  await answered(t, 20_004);
  const rebuilt = restoreLine(consumer, 0);
  assert.equal(await consumer.stop(), 0);
  assert.equal(rebuilt.kind, "rebuild");
  assert.ok(rebuilt.records >= 20_001, `rebuilt from ${rebuilt.records} changelog records`);
  assert.deepEqual(await outcomesOf(t, first.payment_id), [
    "APPROVED",
    "DUPLICATE",
    "DUPLICATE",
    "DUPLICATE",
  ]);
});

Deno.test("after a SIGKILL mid-stream every record has one answer, no payment is approved twice and every store agrees with the changelog", async () => {
  await using t = await testKafka("state-kill", 3);
  const payments = Array.from({ length: 3000 }, () => paymentEvent());
  const inputs = [...payments, ...payments.slice(0, 40), ...payments.slice(1000, 1040)];
  await produce(t, inputs);
  const env = {
    CONSUMER_STATE_DIR: t.stateDir,
    CONSUMER_DEDUP_WINDOW: "10",
    CONSUMER_SIMULATED_LATENCY_MS: "0-2",
    CONSUMER_MAX_RECORDS_PER_TRANSACTION: "50",
  };
  const first = await startConsumer(t, { env });
  await eventually(
    async () => (await readCommitted(t.brokers.join(","), t.topics.results)).length > 300,
    60_000,
    "some results",
  );
  first.kill("SIGKILL");
  await first.exited;
  const second = await startConsumer(t, { env });
  let answers;
  try {
    answers = await readAnswers(t, inputs.length, 90_000);
  } finally {
    assert.equal(await second.stop(), 0, "clean exit on SIGTERM");
  }
  assertExactlyOnce(judgeAnswers(answers, inputs.length, t.topics.requests));
  assert.equal(answers.filter((a) => a.result?.outcome === "DUPLICATE").length, 80);

  // Each changelog as kcat reads it, against each store file opened with plain SQLite.
  const claims = await readCommitted(t.brokers.join(","), t.topics.decisions);
  const decisions = await readCommitted(t.brokers.join(","), t.topics.customerDecisions);
  const stores = [
    { changelog: claims, input: t.topics.requests, table: "claims", field: "duplicates" },
    { changelog: decisions, input: t.topics.byCustomer, table: "decisions", field: "outcome" },
  ];
  for (const { changelog, input, table, field } of stores) {
    for (let partition = 0; partition < 3; partition++) {
      const expected = [...latestRows(changelog, partition)]
        .map(([id, row]) => `${id}=${row[field]}`)
        .sort();
      const db = new DatabaseSync(storeFile(t.stateDir, t.groupId, input, partition), {
        readOnly: true,
      });
      try {
        const rows = db.prepare(`SELECT payment_id, ${field} AS v FROM ${table}`).all() as {
          payment_id: string;
          v: unknown;
        }[];
        assert.deepEqual(rows.map((r) => `${r.payment_id}=${r.v}`).sort(), expected, table);
        const end = changelog.filter((r) => r.partition === partition).at(-1)!.offset;
        const meta = db.prepare("SELECT value FROM meta WHERE key = 'changelog_offset'").get() as {
          value: string;
        };
        assert.ok(Number(meta.value) > end, "the store's checkpoint is past the last record");
      } finally {
        db.close();
      }
    }
  }
  const claimed = [0, 1, 2].flatMap((p) => [...latestRows(claims, p).values()]);
  assert.equal(claimed.length, payments.length, "one claim per payment id");
  assert.equal(
    claimed.reduce((n, c) => n + (c.duplicates as number), 0),
    80,
    "the repeats counted on the claims",
  );
  assert.equal(
    decisions.filter((r) => r.key !== "#progress").length,
    payments.length,
    "one decision per payment id",
  );
});

/** Ways a store file can be unusable, each making the file at `file` so. */
const UNUSABLE: {
  name: string;
  reason: RegExp;
  make: (file: string, other: string) => Promise<void>;
}[] = [
  {
    name: "garbage text",
    reason: /not a database/,
    make: (file) => Deno.writeTextFile(file, "not a database, just garbage ".repeat(200)),
  },
  {
    name: "a truncated file",
    reason: /malformed|integrity|not a database|disk image/,
    make: async (file) => {
      const bytes = await Deno.readFile(file);
      await Deno.writeFile(file, bytes.slice(0, Math.max(100, Math.floor(bytes.length / 3))));
    },
  },
  {
    name: "random bytes",
    reason: /not a database|malformed/,
    make: (file) => Deno.writeFile(file, crypto.getRandomValues(new Uint8Array(8192))),
  },
  {
    name: "the store of another partition",
    reason: /belongs to/,
    make: (file, other) => Deno.copyFile(other, file),
  },
  {
    name: "the store of another changelog topic",
    reason: /belongs to/,
    make: async (file) => {
      await Deno.remove(file);
      openClaimStore({
        file,
        changelogTopic: "another-group.decisions",
        partition: 0,
        retentionMs: 1e9,
      })
        .store.close();
    },
  },
];

Deno.test("an unusable store file (garbage, truncated, random bytes, another partition's or topic's) is moved aside with one warning naming it, rebuilt from the changelog, and a repeat is still DUPLICATE", async () => {
  await using t = await testKafka("state-corrupt", 2);
  const first = paymentEvent();
  await produce(t, [first], { partition: 0 });
  const env = { CONSUMER_STATE_DIR: t.stateDir };
  let consumer = await startConsumer(t, { env });
  await answered(t, 1);
  assert.equal(await consumer.stop(), 0);

  const file = storeFile(t.stateDir, t.groupId, t.topics.requests, 0);
  const other = storeFile(t.stateDir, t.groupId, t.topics.requests, 1);
  for (const [i, unusable] of UNUSABLE.entries()) {
    await Deno.remove(`${file}-wal`).catch(() => {});
    await Deno.remove(`${file}-shm`).catch(() => {});
    await unusable.make(file, other);
    await produce(t, [first], { partition: 0 });
    consumer = await startConsumer(t, { env });
    await answered(t, i + 2);
    const lines = consumer.lines();
    assert.equal(await consumer.stop(), 0);
    const warnings = lines.filter((l) => l.includes("could not be used"));
    assert.equal(warnings.length, 1, `one warning for ${unusable.name}`);
    const fields = JSON.parse(warnings[0]!) as {
      level: string;
      file: string;
      reason: string;
      moved_to: string;
    };
    assert.equal(fields.level, "warning");
    assert.equal(fields.file, file);
    assert.match(fields.reason, unusable.reason, unusable.name);
    await Deno.stat(fields.moved_to);
    assert.deepEqual(
      await outcomesOf(t, first.payment_id),
      ["APPROVED", ...Array(i + 1).fill("DUPLICATE")],
      `no payment decided twice after ${unusable.name}`,
    );
  }
});

Deno.test("a missing or mis-partitioned changelog topic stops the consumer with one sentence before it consumes anything", async () => {
  await using t = await testKafka("state-topic", 2);
  await produce(t, [paymentEvent()]);
  const refuse = async (why: RegExp) => {
    const { code, stderr } = await runUntilExit(
      "consumer",
      consumerEnv(t, { CONSUMER_PORT: String(freePort()), CONSUMER_STATE_DIR: t.stateDir }),
    );
    assert.equal(code, 1, "exit non-zero");
    assert.equal(stderr.split("\n").length, 1, `one sentence on stderr:\n${stderr}`);
    assert.match(stderr, /^Cannot start: the changelog topic \S+/);
    assert.match(stderr, why);
  };
  await t.admin.deleteTopics({ topics: [t.topics.decisions] });
  await eventually(
    async () => !(await t.admin.listTopics()).includes(t.topics.decisions),
    15_000,
    "changelog deleted",
  );
  await refuse(/does not exist; create it with 2 partitions/);
  await t.admin.createTopics({
    topics: [{ topic: t.topics.decisions, numPartitions: 3 }],
    waitForLeaders: true,
  });
  await refuse(/has 3 partitions but \S+ has 2; they must match/);
  const [offsets] = await t.admin.fetchOffsets({ groupId: t.groupId, topics: [t.topics.requests] });
  assert.ok(offsets!.partitions.every((p) => Number(p.offset) < 0), "nothing was consumed");
  assert.equal((await readCommitted(t.brokers.join(","), t.topics.results)).length, 0);
});
