import assert from "node:assert/strict";
import { partitionForKey } from "@payments/shared/key_partition";
import { noTasks, type TaskGroupMember, type TaskKindName } from "@payments/shared/task_group";
import type { GroupSnapshot, OwnerDirectory } from "./owners.ts";
import { createStatusReader } from "./status_reader.ts";
import type { Claim, Decision, StoreClient, StoreRead } from "./store_client.ts";

const PARTITIONS = 6;
const ID = "P-42";
const CUSTOMER = "C-7";
const P = partitionForKey(ID, PARTITIONS);
const C = partitionForKey(CUSTOMER, PARTITIONS);

const CLAIM: Claim = {
  payment_id: ID,
  customer_id: CUSTOMER,
  created_at: "2026-12-01T10:00:00.000Z",
  claimed_at: "2026-12-01T10:00:00.050Z",
  request_partition: P,
  request_offset: 17,
  correlation_id: "corr-42",
  duplicates: 2,
};
const DECISION: Decision = {
  payment_id: ID,
  outcome: "DECLINED",
  reason: "velocity_exceeded",
  customer_id: CUSTOMER,
  created_at: CLAIM.created_at,
  decided_at: "2026-12-01T10:00:00.180Z",
  request_partition: P,
  request_offset: 17,
  correlation_id: "corr-42",
};

/** A member owning `active` and keeping `standby` warm, answering at `http://<name>`. */
function member(
  name: string,
  active: Partial<Record<TaskKindName, number[]>>,
  standby: Partial<Record<TaskKindName, number[]>> = {},
): TaskGroupMember {
  return {
    memberId: name,
    clientHost: "/127.0.0.1",
    endpoint: `http://${name}`,
    active: { ...noTasks(), ...active },
    standby: { ...noTasks(), ...standby },
  };
}

function snapshot(members: TaskGroupMember[], state = "Stable"): GroupSnapshot {
  return {
    view: { state, protocol: "PaymentTasks", members },
    partitions: { payments: PARTITIONS, customers: PARTITIONS },
  };
}

/** A directory answering the snapshots given, one per load (the last one repeats). */
function owners(...snapshots: GroupSnapshot[]) {
  let current = 0;
  const directory: OwnerDirectory & { loads: number; dropped: number } = {
    loads: 1,
    dropped: 0,
    snapshot: () => Promise.resolve(snapshots[current]!),
    invalidate(seen) {
      if (seen !== snapshots[current]) return;
      directory.dropped++;
      if (current < snapshots.length - 1) current++;
      directory.loads++;
    },
  };
  return directory;
}

type Answer<Row> = StoreRead<Row> | ((waitMs: number) => StoreRead<Row>);

/** Stores by endpoint and task; every read is recorded. */
function stores(answers: Record<string, Answer<Claim> | Answer<Decision>>) {
  const reads: string[] = [];
  const answer = (kind: string, endpoint: string, partition: number, waitMs: number) => {
    const key = `${endpoint} ${kind}-${partition}`;
    reads.push(`${key} wait=${waitMs}`);
    const found = answers[key];
    if (!found) return { kind: "elsewhere" as const };
    return typeof found === "function" ? found(waitMs) : found;
  };
  const client: StoreClient = {
    claim: (endpoint, partition, _id, { waitMs }) =>
      Promise.resolve(answer("payments", endpoint, partition, waitMs) as StoreRead<Claim>),
    decision: (endpoint, partition, _id, { waitMs }) =>
      Promise.resolve(answer("customers", endpoint, partition, waitMs) as StoreRead<Decision>),
  };
  return { client, reads };
}

const found = <Row>(row: Row, stale = false): StoreRead<Row> => ({ kind: "found", row, stale });
const absent = { kind: "absent" as const, stale: false };
const down = { kind: "unreachable" as const, reason: "http://a: connection refused" };

/** A clock that moves only when the reader sleeps. */
function clock() {
  let at = 0;
  return {
    now: () => at,
    sleep: (ms: number) => {
      at += ms;
      return Promise.resolve();
    },
  };
}

Deno.test("a decided payment: the claim from its payment task's owner, the decision from its customer task's", async () => {
  const group = owners(snapshot([member("a", { payments: [P] }), member("b", { customers: [C] })]));
  const { client, reads } = stores({
    [`http://a payments-${P}`]: found(CLAIM),
    [`http://b customers-${C}`]: found(DECISION),
  });
  const reader = createStatusReader({ owners: group, stores: client, ...clock() });
  assert.deepEqual(await reader.read(ID, { waitMs: 0 }), {
    kind: "decided",
    status: {
      payment_id: ID,
      status: "DECLINED",
      reason: "velocity_exceeded",
      rule: "the customer has more payments created within a minute of this one than " +
        "CONSUMER_VELOCITY_MAX_PER_MINUTE allows",
      decided_at: DECISION.decided_at,
      created_at: CLAIM.created_at,
      partition: P,
      offset: 17,
      correlation_id: "corr-42",
      duplicates: 2,
      stale: false,
    },
  });
  assert.deepEqual(reads, [`http://a payments-${P} wait=0`, `http://b customers-${C} wait=0`]);
});

Deno.test("no claim is unknown; a claim without a decision is being decided", async () => {
  const group = owners(snapshot([member("a", { payments: [P], customers: [C] })]));
  const unknown = stores({ [`http://a payments-${P}`]: absent });
  assert.deepEqual(
    await createStatusReader({ owners: group, stores: unknown.client }).read(ID, { waitMs: 0 }),
    { kind: "unknown" },
  );
  assert.equal(unknown.reads.length, 1, "no decision is asked for without a claim");
  const deciding = stores({
    [`http://a payments-${P}`]: found(CLAIM),
    [`http://a customers-${C}`]: absent,
  });
  assert.deepEqual(
    await createStatusReader({ owners: group, stores: deciding.client }).read(ID, { waitMs: 0 }),
    { kind: "deciding", claimedAt: CLAIM.claimed_at },
  );
});

Deno.test("a claim carrying its outcome (single-stage consumer) is the answer, without a second hop", async () => {
  const group = owners(snapshot([member("a", { payments: [P] })]));
  const { client, reads } = stores({
    [`http://a payments-${P}`]: found({ ...CLAIM, outcome: "APPROVED" as const }),
  });
  const answer = await createStatusReader({ owners: group, stores: client }).read(ID, {
    waitMs: 0,
  });
  assert.equal(answer.kind, "decided");
  assert.deepEqual(
    answer.kind === "decided" &&
      [answer.status.status, answer.status.reason, answer.status.decided_at],
    ["APPROVED", null, CLAIM.claimed_at],
  );
  assert.equal(reads.length, 1);
});

Deno.test("an owner that no longer holds the task (421) is asked again through a fresh view of the group", async () => {
  const group = owners(
    snapshot([member("old", { payments: [P], customers: [C] })]),
    snapshot([member("new", { payments: [P], customers: [C] })]),
  );
  const { client, reads } = stores({
    [`http://old payments-${P}`]: { kind: "elsewhere" },
    [`http://new payments-${P}`]: found(CLAIM),
    [`http://new customers-${C}`]: found(DECISION),
  });
  const answer = await createStatusReader({ owners: group, stores: client, ...clock() }).read(
    ID,
    { waitMs: 0 },
  );
  assert.equal(answer.kind, "decided");
  assert.equal(group.dropped, 1);
  assert.deepEqual(reads.map((r) => r.split(" ")[0]), ["http://old", "http://new", "http://new"]);
});

Deno.test("an owner that cannot be reached is replaced by a standby, and the answer says stale", async () => {
  const group = owners(
    snapshot([
      member("a", { payments: [P] }, { customers: [C] }),
      member("b", { customers: [C] }, { payments: [P] }),
    ]),
  );
  const { client, reads } = stores({
    [`http://a payments-${P}`]: down,
    [`http://b payments-${P}`]: found(CLAIM, true),
    [`http://b customers-${C}`]: found(DECISION),
  });
  const answer = await createStatusReader({ owners: group, stores: client, ...clock() }).read(
    ID,
    { waitMs: 0 },
  );
  assert.equal(answer.kind, "decided");
  assert.equal(answer.kind === "decided" && answer.status.stale, true);
  assert.deepEqual(reads.slice(0, 2), [
    `http://a payments-${P} wait=0`,
    `http://b payments-${P} wait=0`,
  ]);
});

Deno.test("during a rebalance (no owner) a standby answers, marked stale", async () => {
  const group = owners(
    snapshot([member("b", {}, { payments: [P], customers: [C] })], "PreparingRebalance"),
  );
  const { client } = stores({
    [`http://b payments-${P}`]: found(CLAIM, true),
    [`http://b customers-${C}`]: found(DECISION, true),
  });
  const answer = await createStatusReader({ owners: group, stores: client, ...clock() }).read(
    ID,
    { waitMs: 0 },
  );
  assert.equal(answer.kind === "decided" && answer.status.stale, true);
});

Deno.test("an unreachable owner without a standby that has the row is unavailable, never unknown", async () => {
  const lone = owners(snapshot([member("a", { payments: [P] })]));
  const alone = stores({ [`http://a payments-${P}`]: down });
  const answer = await createStatusReader({ owners: lone, stores: alone.client, ...clock() })
    .read(ID, { waitMs: 0 });
  assert.equal(answer.kind, "unavailable");
  assert.match(
    (answer as { detail: string }).detail,
    new RegExp(`owner of payments-${P} cannot be reached \\(http://a: connection refused\\)`),
  );
  assert.equal(alone.reads.length, 2, "asked once more through a fresh view, then given up");

  // A standby that has no row may only be behind: that is no proof the payment is unknown.
  const withStandby = owners(
    snapshot([member("a", { payments: [P] }), member("b", {}, { payments: [P] })]),
  );
  const behind = stores({
    [`http://a payments-${P}`]: down,
    [`http://b payments-${P}`]: { kind: "absent", stale: true },
  });
  const stale = await createStatusReader({
    owners: withStandby,
    stores: behind.client,
    ...clock(),
  }).read(ID, { waitMs: 0 });
  assert.equal(stale.kind, "unavailable");
  assert.match((stale as { detail: string }).detail, /no standby copy of it has the payment/);
});

Deno.test("with no owner and no standby, the answer says the group has none", async () => {
  const group = owners(snapshot([], "Empty"));
  const { client, reads } = stores({});
  const answer = await createStatusReader({ owners: group, stores: client, ...clock() }).read(
    ID,
    { waitMs: 0 },
  );
  assert.deepEqual(answer, {
    kind: "unavailable",
    detail: `no instance owns payments-${P} now (group state Empty)`,
  });
  assert.deepEqual(reads, []);
});

Deno.test("a waiting read retries while the group has no owner and answers once one appears", async () => {
  const time = clock();
  const group = owners(
    snapshot([], "PreparingRebalance"),
    snapshot([], "CompletingRebalance"),
    snapshot([member("a", { payments: [P], customers: [C] })]),
  );
  const { client, reads } = stores({
    [`http://a payments-${P}`]: found(CLAIM),
    // The decision comes once the store held the read for a while.
    [`http://a customers-${C}`]: (waitMs) => {
      time.sleep(Math.min(waitMs, 100));
      return found(DECISION);
    },
  });
  const reader = createStatusReader({ owners: group, stores: client, ...time, retryPauseMs: 250 });
  const answer = await reader.read(ID, { waitMs: 5000 });
  assert.equal(answer.kind, "decided");
  // Second attempt at once, third after one pause; each hop is handed the wait left.
  assert.deepEqual(reads, [
    `http://a payments-${P} wait=4750`,
    `http://a customers-${C} wait=4750`,
  ]);
});

Deno.test("a waiting read gives up at the end of its wait", async () => {
  const time = clock();
  const group = owners(snapshot([], "PreparingRebalance"));
  const reader = createStatusReader({
    owners: group,
    stores: stores({}).client,
    ...time,
    retryPauseMs: 250,
  });
  const answer = await reader.read(ID, { waitMs: 1000 });
  assert.equal(answer.kind, "unavailable");
  assert.equal(time.now(), 1000, "it waited the whole wait, no longer");
});

Deno.test("a group that cannot be described is unavailable, saying why", async () => {
  const failing: OwnerDirectory = {
    snapshot: () => Promise.reject(new Error("Cannot describe consumer group g: broker down")),
    invalidate: () => {},
  };
  const answer = await createStatusReader({
    owners: failing,
    stores: stores({}).client,
    ...clock(),
  }).read(ID, { waitMs: 0 });
  assert.deepEqual(answer, {
    kind: "unavailable",
    detail: "Cannot describe consumer group g: broker down",
  });
});
