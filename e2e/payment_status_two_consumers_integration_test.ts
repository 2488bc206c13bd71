/**
 * Status reads with two consumer instances: the payment's claim and its decision live
 * on different instances, either way round, and the producer finds each one; with the
 * owner of one of them killed, the other instance's standby copy answers, marked stale,
 * until the group hands it the task and it answers as owner again.
 */
import assert from "node:assert/strict";
import { partitionForKey } from "@payments/shared/key_partition";
import type { TaskGroupView } from "@payments/shared/task_group";
import { getStatus, groupReaching, postPayment } from "@payments/testing/payment_status";
import { paymentRequest } from "@payments/testing/payments";
import { startConsumer, startService } from "@payments/testing/services";
import { testKafka } from "@payments/testing/test_kafka";
import { deleteTopics } from "@payments/testing/topics";
import { eventually } from "@payments/testing/wait";

const PARTITIONS = 3;

/** Both members own tasks of each kind, and every task has a standby. */
function balanced(view: TaskGroupView): boolean {
  return view.state === "Stable" && view.members.length === 2 &&
    view.members.every((m) => m.active.payments.length > 0 && m.active.customers.length > 0) &&
    (["payments", "customers"] as const).every((kind) =>
      Array.from({ length: PARTITIONS }, (_, p) => p).every((p) =>
        view.members.some((m) => m.standby[kind].includes(p))
      )
    );
}

/** The first key `prefix-<n>` whose partition is one of `partitions`. */
function keyIn(prefix: string, partitions: number[]): string {
  for (let n = 0;; n++) {
    const key = `${prefix}-${n}`;
    if (partitions.includes(partitionForKey(key, PARTITIONS))) return key;
  }
}

Deno.test("with two consumers, a payment's claim and decision are read wherever they are; with one owner killed, the standby answers stale", async () => {
  await using t = await testKafka("status-two", PARTITIONS);
  try {
    await using one = await startConsumer(t);
    await using two = await startConsumer(t);
    await using producer = await startService("producer", {
      brokers: t.brokers,
      topics: t.topics,
      groupId: t.groupId,
      env: { LAG_MONITOR_ENABLED: "false" },
    });
    const context = () =>
      `--- one ---\n${one.tail(15)}\n--- two ---\n${two.tail(15)}\n--- producer ---\n` +
      producer.tail(10);
    const view = await groupReaching(t.admin, t, balanced, "two balanced members with standbys");
    const owner = (url: string) => view.members.find((m) => m.endpoint === url)!;
    const [first, second] = [owner(one.url), owner(two.url)];
    assert.ok(first && second, `members advertise the consumers' URLs: ${JSON.stringify(view)}`);

    // A: claim on the first instance, decision on the second; B: the other way round.
    const run = crypto.randomUUID().slice(0, 8);
    const a = paymentRequest(keyIn(`TWO-${run}-a`, first.active.payments), {
      customer_id: keyIn(`C-${run}-a`, second.active.customers),
    });
    const b = paymentRequest(keyIn(`TWO-${run}-b`, second.active.payments), {
      customer_id: keyIn(`C-${run}-b`, first.active.customers),
    });
    for (const payment of [a, b]) {
      const posted = await postPayment(producer.url, payment);
      assert.equal(posted.status, 202, JSON.stringify(posted.body));
      const read = await getStatus(`${producer.url}${posted.location}`, { wait: 20 });
      assert.equal(read.status, 200, `${JSON.stringify(read.body)}\n${context()}`);
      assert.deepEqual([read.body.payment_id, read.body.status, read.body.stale], [
        payment.payment_id,
        "APPROVED",
        false,
      ]);
    }

    // The second instance's standbys of the first one's tasks have both rows.
    const standbyHas = async (kind: string, key: string, id: string) => {
      const response = await fetch(
        `${two.url}/stores/${kind}/${partitionForKey(key, PARTITIONS)}/${id}`,
      );
      const body = await response.json();
      return response.status === 200 && body.replica === "standby";
    };
    await eventually(
      async () =>
        await standbyHas("payments", a.payment_id, a.payment_id) &&
        await standbyHas("customers", b.customer_id, b.payment_id),
      30_000,
      "the standby copies on the second instance",
      { intervalMs: 200, context },
    );

    // Killed: the group names it as owner until its 6 s session ends; it cannot answer.
    one.kill("SIGKILL");
    await one.exited;
    for (const payment of [a, b]) {
      const read = await getStatus(`${producer.url}/payments/${payment.payment_id}`);
      assert.equal(read.status, 200, `${JSON.stringify(read.body)}\n${context()}`);
      assert.deepEqual([read.body.status, read.body.stale], ["APPROVED", true], payment.payment_id);
    }

    // Once the group gave every task to the second instance, it answers as their owner.
    await groupReaching(
      t.admin,
      t,
      (v) => v.state === "Stable" && v.members.length === 1,
      "the group without the killed member",
    );
    for (const payment of [a, b]) {
      let read: Awaited<ReturnType<typeof getStatus>> | undefined;
      await eventually(
        async () =>
          (read = await getStatus(`${producer.url}/payments/${payment.payment_id}`, { wait: 5 }))
              .status === 200 && read.body.stale === false,
        30_000,
        `${payment.payment_id} read from its new owner`,
        { intervalMs: 250, context: () => `${JSON.stringify(read?.body)}\n${context()}` },
      );
      assert.equal(read!.body.status, "APPROVED");
    }
  } finally {
    await deleteTopics(t.brokers, Object.values(t.topics));
  }
});
