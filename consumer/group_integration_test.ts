/**
 * The consumer's group membership against a real broker and real subprocesses:
 * `/ready` agrees with the group's own view (the admin client's describe-group), and a
 * task moving to the instance that kept its standby is ready from the standby's store,
 * not rebuilt from the changelog.
 */
import assert from "node:assert/strict";
import { freePort } from "@payments/testing/brokers";
import { paymentEvent } from "@payments/testing/payments";
import { produce } from "@payments/testing/produce";
import { type ServiceProcess, startConsumer } from "@payments/testing/services";
import { type TestKafka, testKafka } from "@payments/testing/test_kafka";
import { readCommitted } from "@payments/testing/kcat";
import { eventually } from "@payments/testing/wait";
import { describeTaskGroup, TASK_KINDS } from "@payments/shared/task_group";

interface ReadyBody {
  status: string;
  reason: string;
  state: string;
  member_id: string | null;
  tasks: { task: string; state: string }[];
  standby_tasks: string[];
}

async function readyOf(consumer: ServiceProcess): Promise<{ code: number; body: ReadyBody }> {
  const response = await fetch(`${consumer.url}/ready`);
  return { code: response.status, body: await response.json() };
}

/** A consumer of `t` with its own state directory and port, advertising its address. */
async function instance(t: TestKafka, dir: string, env: Record<string, string> = {}) {
  const port = freePort("127.0.0.1");
  return await startConsumer(t, {
    port,
    waitReady: false,
    env: {
      CONSUMER_STATE_DIR: dir,
      CONSUMER_ADVERTISED_URL: `http://127.0.0.1:${port}`,
      LOG_LEVEL: "info",
      ...env,
    },
  });
}

/** The tasks the group assigned a member, as `payments-0` names. */
async function assignedInGroup(t: TestKafka, memberId: string): Promise<string[]> {
  const view = await describeTaskGroup(t.admin, t.groupId, t.topics);
  const member = view.members.find((m) => m.memberId === memberId);
  if (!member || view.state !== "Stable") return [];
  return TASK_KINDS.flatMap((kind) => member.active[kind].map((p) => `${kind}-${p}`)).sort();
}

Deno.test("/ready is 503 until the instance is a member with every assigned task running, and then lists what the group's own view assigns it", async () => {
  await using kafka = await testKafka("ready-group", 2);
  // The first instance starts before its requests topic exists, so it certainly is not
  // a member when asked first (a join can be quicker than the first poll), and joins
  // once the topic is created.
  const t = { ...kafka, topics: { ...kafka.topics, requests: `${kafka.topics.requests}.late` } };
  const dirA = await Deno.makeTempDir({ prefix: "ready-a-" });
  const a = await instance(t, dirA);
  try {
    const first = await readyOf(a);
    assert.equal(first.code, 503, "not ready before it joined");
    assert.ok(["starting", "joining"].includes(first.body.state), first.body.state);
    await t.admin.createTopics({
      topics: [{ topic: t.topics.requests, numPartitions: 2 }],
      waitForLeaders: true,
    });
    await a.waitReady(60_000);
    const ready = await readyOf(a);
    assert.equal(ready.code, 200, JSON.stringify(ready.body));
    assert.ok(ready.body.tasks.every((t) => t.state === "running"));
    const inGroup = await assignedInGroup(t, ready.body.member_id!);
    assert.deepEqual(ready.body.tasks.map((t) => t.task).sort(), inGroup);
    assert.deepEqual(inGroup, ["customers-0", "customers-1", "payments-0", "payments-1"]);

    // A second and a third instance: two partitions of each kind go to two of them; the
    // one left without partitions is ready, and says why.
    const dirB = await Deno.makeTempDir({ prefix: "ready-b-" });
    const dirC = await Deno.makeTempDir({ prefix: "ready-c-" });
    const b = await instance(t, dirB);
    const c = await instance(t, dirC);
    try {
      await eventually(
        async () => {
          const bodies = await Promise.all([a, b, c].map(readyOf));
          if (bodies.some((r) => r.code !== 200)) return false;
          const view = await describeTaskGroup(t.admin, t.groupId, t.topics);
          if (view.state !== "Stable" || view.members.length !== 3) return false;
          for (const r of bodies) {
            const inGroup = await assignedInGroup(t, r.body.member_id!);
            assert.deepEqual(r.body.tasks.map((t) => t.task).sort(), inGroup);
          }
          return true;
        },
        90_000,
        "three ready members agreeing with the group",
      );
      const idle = (await Promise.all([a, b, c].map(readyOf))).find((r) =>
        r.body.tasks.length === 0
      );
      if (idle) assert.match(idle.body.reason, /more instances than partitions/);
    } finally {
      await Promise.all([b.stop(), c.stop()]);
      await Deno.remove(dirB, { recursive: true });
      await Deno.remove(dirC, { recursive: true });
    }
  } finally {
    assert.equal(await a.stop(), 0);
    await Deno.remove(dirA, { recursive: true });
  }
});

/** The "Task ... ready" lines a consumer logged, by task. */
function readyLines(consumer: ServiceProcess) {
  return consumer.lines()
    .filter((l) => l.includes('"message":"Task ') && l.includes(" ready in "))
    .map((l) => JSON.parse(l) as { task: string; records: number; ready_ms: number; kind: string });
}

Deno.test("a task moving to the instance that kept its standby reads only the changelog's last records, and every payment is still answered once", async () => {
  await using t = await testKafka("handover", 4);
  const history = Array.from({ length: 4000 }, () => paymentEvent());
  await produce(t, history);
  const dirA = await Deno.makeTempDir({ prefix: "handover-a-" });
  const dirB = await Deno.makeTempDir({ prefix: "handover-b-" });
  const a = await instance(t, dirA);
  const b = await instance(t, dirB);
  try {
    await Promise.all([a.waitReady(90_000), b.waitReady(90_000)]);
    await eventually(
      async () => (await readCommitted(t.brokers.join(","), t.topics.results)).length >= 4000,
      120_000,
      "the history decided",
    );
    // b keeps a standby of every task a owns (one standby each, two instances).
    const aTasks = (await readyOf(a)).body.tasks.map((x) => x.task).sort();
    assert.ok(aTasks.length > 0, "a owns tasks");
    await eventually(
      async () => {
        const standbys = (await readyOf(b)).body.standby_tasks.sort();
        return JSON.stringify(standbys) === JSON.stringify(aTasks);
      },
      30_000,
      `b keeps standbys of ${aTasks.join(", ")}`,
    );
    const before = readyLines(b).length;
    assert.equal(await a.stop(), 0, "a stops cleanly");
    const repeats = history.slice(0, 200);
    const fresh = Array.from({ length: 200 }, () => paymentEvent());
    await produce(t, [...repeats, ...fresh]);
    await eventually(
      async () => (await readCommitted(t.brokers.join(","), t.topics.results)).length >= 4400,
      60_000,
      "the new payments answered by b",
    );
    const moved = readyLines(b).slice(before).filter((l) => aTasks.includes(l.task));
    assert.deepEqual(moved.map((l) => l.task).sort(), aTasks, "b took a's tasks over");
    for (const line of moved) {
      assert.equal(line.kind, "checkpoint", `${line.task} from the standby's checkpoint`);
      assert.ok(
        line.records < 100,
        `${line.task} read ${line.records} changelog records, not the history`,
      );
    }
    const results = (await readCommitted(t.brokers.join(","), t.topics.results))
      .map((r) => JSON.parse(r.payload!) as { payment_id: string; outcome: string });
    const outcomes = new Map<string, string[]>();
    for (const r of results) {
      outcomes.set(r.payment_id, [...outcomes.get(r.payment_id) ?? [], r.outcome]);
    }
    for (const p of repeats) {
      assert.deepEqual(outcomes.get(p.payment_id)?.sort(), ["APPROVED", "DUPLICATE"], p.payment_id);
    }
    for (const p of fresh) assert.deepEqual(outcomes.get(p.payment_id), ["APPROVED"]);
  } finally {
    await Promise.all([a.stop(), b.stop()]);
    await Deno.remove(dirA, { recursive: true });
    await Deno.remove(dirB, { recursive: true });
  }
});
