/**
 * Reads of this instance's task stores over HTTP, Kafka Streams' interactive queries:
 * the producer finds the instance holding a payment's store in the group's own
 * description (`@payments/shared/task_group`) and asks it here.
 *
 * - `GET /stores/payments/{partition}/{payment_id}`: the claim of a payment on its
 *   request partition (customer, times, where the request was read, correlation id,
 *   repeats answered DUPLICATE);
 * - `GET /stores/customers/{partition}/{payment_id}`: its decision on its customer's
 *   partition (outcome, rule, when).
 *
 * An active task's store holds only what committed, so its answers are
 * read-committed; a standby's may lag its changelog and is answered with
 * `"stale": true`, never silently. `?wait=<ms>` (at most 30 s) holds the request until
 * the row exists or the wait ends. 404 means this store, which owns the partition,
 * has no such row; 421 means this instance holds no store of that task now (the group
 * moved it, or it is being restored): the caller asks the group again.
 *
 * @module
 */
import { problem, problemResponse } from "@payments/shared/problem";
import type { Decision } from "./customers/decision_records.ts";
import type { DecisionStore } from "./customers/decision_store.ts";
import type { Claim } from "./payments/claim_records.ts";
import type { ClaimStore } from "./payments/claim_store.ts";
import type { TaskId } from "./tasks/task.ts";
import type { TaskStore } from "./store/sqlite_store.ts";

/** Longest `?wait=` honoured, in ms. */
export const MAX_STORE_WAIT_MS = 30_000;
/** How often a waiting read looks again. */
const POLL_MS = 20;

/** Where reads find the stores. */
export interface StoreReadDeps {
  /** The store of a task running here. */
  active: (id: TaskId) => TaskStore<unknown> | undefined;
  /** The store of a standby kept here. */
  standby: (id: TaskId) => TaskStore<unknown> | undefined;
  sleep?: (ms: number) => Promise<void>;
}

const ROUTE = /^\/stores\/(payments|customers)\/(\d{1,5})\/([^/]+)$/;

const iso = (ms: number) => new Date(ms).toISOString();

function claimBody(c: Claim) {
  return {
    payment_id: c.paymentId,
    customer_id: c.customerId,
    created_at: iso(c.createdAtMs),
    claimed_at: iso(c.claimedAtMs),
    request_partition: c.inputPartition,
    request_offset: c.inputOffset,
    correlation_id: c.correlationId || null,
    duplicates: c.duplicates,
    ...(c.legacyOutcome ? { outcome: c.legacyOutcome } : {}),
  };
}

function decisionBody(d: Decision) {
  return {
    payment_id: d.paymentId,
    outcome: d.outcome,
    reason: d.reason,
    customer_id: d.customerId,
    created_at: iso(d.createdAtMs),
    decided_at: iso(d.decidedAtMs),
    request_partition: d.inputPartition,
    request_offset: d.inputOffset,
    correlation_id: d.correlationId || null,
  };
}

/** Whether a request is a store read. */
export const isStoreRead = (pathname: string) => pathname.startsWith("/stores/");

/** Creates the handler of store reads. */
export function createStoreReads(deps: StoreReadDeps): (request: Request) => Promise<Response> {
  const sleep = deps.sleep ?? ((ms: number) => new Promise((r) => setTimeout(r, ms)));

  function find(id: TaskId) {
    const active = deps.active(id);
    if (active) return { store: active, replica: "active" as const };
    const standby = deps.standby(id);
    return standby ? { store: standby, replica: "standby" as const } : undefined;
  }

  function lookUp(id: TaskId, paymentId: string) {
    const held = find(id);
    if (!held) return { held };
    try {
      const row = id.kind === "payments"
        ? (held.store as unknown as ClaimStore).claimed([paymentId]).get(paymentId)
        : (held.store as unknown as DecisionStore).decision(paymentId);
      return { held, row };
    } catch {
      // The store closed under us (the task moved away while we read).
      return { held: undefined };
    }
  }

  return async (request) => {
    const url = new URL(request.url);
    const match = ROUTE.exec(url.pathname);
    if (!match) {
      return problemResponse(problem(404, "not-found", `No route ${url.pathname}`));
    }
    const id: TaskId = { kind: match[1] as TaskId["kind"], partition: Number(match[2]) };
    const paymentId = decodeURIComponent(match[3]!);
    const wait = Number(url.searchParams.get("wait") ?? 0);
    if (!Number.isFinite(wait) || wait < 0 || wait > MAX_STORE_WAIT_MS) {
      return problemResponse(
        problem(400, "validation", `wait must be 0 to ${MAX_STORE_WAIT_MS} ms`),
      );
    }
    const deadline = performance.now() + wait;
    for (;;) {
      const { held, row } = lookUp(id, paymentId);
      if (!held) {
        return problemResponse(
          problem(
            421,
            "store-elsewhere",
            `This instance holds no store of ${id.kind}-${id.partition}`,
          ),
        );
      }
      if (row) {
        const body = id.kind === "payments"
          ? { claim: claimBody(row as Claim) }
          : { decision: decisionBody(row as Decision) };
        return new Response(
          JSON.stringify({ replica: held.replica, stale: held.replica === "standby", ...body }),
          { headers: { "content-type": "application/json" } },
        );
      }
      // Bounded by MAX_STORE_WAIT_MS; not by request.signal, which Deno 2.9 aborts after
      // every response (and warns about on stderr, a line that is not JSON).
      if (performance.now() >= deadline) {
        return problemResponse(
          problem(
            404,
            "payment-unknown",
            `No ${
              id.kind === "payments" ? "claim" : "decision"
            } of ${paymentId} in ${id.kind}-${id.partition}`,
            {
              replica: held.replica,
              stale: held.replica === "standby",
            },
          ),
        );
      }
      await sleep(Math.min(POLL_MS, Math.max(1, deadline - performance.now())));
    }
  };
}
