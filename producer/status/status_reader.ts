/**
 * A payment's status read from the consumers' stores, in two hops (the consumer decides
 * a payment in two stages):
 *
 * 1. the payment task of `partitionForKey(payment_id)` on `payment_requests` holds its
 *    claim (customer, where the request was read, correlation id, repeats answered
 *    DUPLICATE); no claim means the payment is unknown;
 * 2. the customer task of `partitionForKey(customer_id)` on the repartition topic holds
 *    its decision; no decision yet means it was received and is being decided.
 *
 * Each hop asks the task's active owner, whose store is read-committed. When the owner
 * cannot be reached, or the group has none (a rebalance), a standby's copy answers,
 * marked stale; a standby that has no row proves nothing (it may lag), so the answer is
 * then "unavailable", never "unknown". A wrong or missing owner is retried once at once
 * with a fresh view of the group (the cached one may simply be out of date), then every
 * {@linkcode StatusReaderDeps.retryPauseMs} while the caller's wait lasts. The wait left
 * is passed to every read, so a store holds the request until its row exists.
 *
 * @module
 */
import { declineRule } from "@payments/shared/decline_rules";
import { partitionForKey } from "@payments/shared/key_partition";
import { replicasOf, type TaskKindName } from "@payments/shared/task_group";
import type { PaymentStatus } from "../schemas.ts";
import type { GroupSnapshot, OwnerDirectory } from "./owners.ts";
import type { Claim, Decision, StoreClient, StoreRead } from "./store_client.ts";

/** What a status read found. */
export type StatusAnswer =
  | { kind: "decided"; status: PaymentStatus }
  /** No claim: never received, not read from Kafka yet, or past the retention. */
  | { kind: "unknown" }
  /** Claimed (received and forwarded), no decision committed yet. */
  | { kind: "deciding"; claimedAt: string }
  /** Nobody who holds the answer could be asked; `detail` says who and why. */
  | { kind: "unavailable"; detail: string };

/** Reads a payment's status. */
export interface PaymentStatusReader {
  /** `waitMs`: how long to wait for a decision that is not there yet (0: answer now). */
  read(paymentId: string, options: { waitMs: number }): Promise<StatusAnswer>;
}

/** What the reader needs. */
export interface StatusReaderDeps {
  owners: OwnerDirectory;
  stores: StoreClient;
  /** Monotonic milliseconds (default `performance.now`). */
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  /** Pause between attempts while the caller's wait lasts (default 250 ms). */
  retryPauseMs?: number;
  /** Longest wait for the group's description when the caller waits less (default 3000 ms). */
  groupTimeoutMs?: number;
}

/** How one hop ended. */
type Hop<Row> =
  | { kind: "found"; row: Row; stale: boolean }
  | { kind: "absent" }
  | { kind: "unavailable"; detail: string };

/** Creates the reader. */
export function createStatusReader(deps: StatusReaderDeps): PaymentStatusReader {
  const now = deps.now ?? (() => performance.now());
  const sleep = deps.sleep ?? ((ms: number) => new Promise((r) => setTimeout(r, ms)));
  const retryPauseMs = deps.retryPauseMs ?? 250;
  const groupTimeoutMs = deps.groupTimeoutMs ?? 3000;

  /** The group's snapshot, or why there is none within `ms`. */
  async function snapshotWithin(ms: number): Promise<GroupSnapshot | string> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<string>((resolve) => {
      timer = setTimeout(
        () => resolve(`the consumer group was not described within ${ms} ms`),
        ms,
      );
    });
    try {
      return await Promise.race([deps.owners.snapshot(), late]);
    } catch (error) {
      return error instanceof Error ? error.message : String(error);
    } finally {
      clearTimeout(timer);
    }
  }

  async function hop<Row>(
    kind: TaskKindName,
    key: string,
    deadline: number,
    read: (endpoint: string, partition: number, waitMs: number) => Promise<StoreRead<Row>>,
  ): Promise<Hop<Row>> {
    const left = () => Math.max(0, deadline - now());
    let problem = "";
    for (let attempt = 1;; attempt++) {
      const snapshot = await snapshotWithin(Math.max(left(), groupTimeoutMs));
      if (typeof snapshot === "string") {
        problem = snapshot;
      } else {
        const partition = partitionForKey(key, snapshot.partitions[kind]);
        const task = `${kind}-${partition}`;
        const { active, standbys } = replicasOf(snapshot.view, kind, partition);
        let activeDown = false;
        if (active?.endpoint) {
          const answer = await read(active.endpoint, partition, left());
          if (answer.kind === "found") return answer;
          if (answer.kind === "absent" && !answer.stale) return { kind: "absent" };
          deps.owners.invalidate(snapshot);
          activeDown = answer.kind === "unreachable";
          problem = answer.kind === "unreachable"
            ? `the owner of ${task} cannot be reached (${answer.reason})`
            : `the owner of ${task} named by the group no longer holds it`;
        } else {
          deps.owners.invalidate(snapshot);
          problem = active
            ? `the owner of ${task} advertises no endpoint for reads`
            : `no instance owns ${task} now (group state ${snapshot.view.state})`;
        }
        // A standby answers only for an owner that is down or missing: an owner that
        // moved has a successor, which the fresh view names.
        if (activeDown || !active?.endpoint) {
          for (const standby of standbys) {
            if (!standby.endpoint || standby.endpoint === active?.endpoint) continue;
            const answer = await read(standby.endpoint, partition, left());
            if (answer.kind === "found") return { kind: "found", row: answer.row, stale: true };
          }
          if (standbys.length > 0) problem += "; no standby copy of it has the payment";
        }
      }
      // Once at once (the cached view may just be out of date), then while the wait lasts.
      if (attempt > 1 && left() === 0) {
        return { kind: "unavailable", detail: problem };
      }
      if (attempt > 1) await sleep(Math.min(retryPauseMs, left()));
    }
  }

  return {
    async read(paymentId, { waitMs }) {
      const deadline = now() + waitMs;
      const claimed = await hop<Claim>(
        "payments",
        paymentId,
        deadline,
        (endpoint, partition, wait) =>
          deps.stores.claim(endpoint, partition, paymentId, { waitMs: wait }),
      );
      if (claimed.kind === "absent") return { kind: "unknown" };
      if (claimed.kind === "unavailable") return claimed;
      const claim = claimed.row;
      if (claim.outcome) return { kind: "decided", status: legacyStatus(claim, claimed.stale) };
      const decided = await hop<Decision>(
        "customers",
        claim.customer_id,
        deadline,
        (endpoint, partition, wait) =>
          deps.stores.decision(endpoint, partition, paymentId, { waitMs: wait }),
      );
      if (decided.kind === "absent") return { kind: "deciding", claimedAt: claim.claimed_at };
      if (decided.kind === "unavailable") return decided;
      return {
        kind: "decided",
        status: statusOf(claim, decided.row, claimed.stale || decided.stale),
      };
    },
  };
}

/** The answer from a claim and its decision. */
function statusOf(claim: Claim, decision: Decision, stale: boolean): PaymentStatus {
  return {
    payment_id: claim.payment_id,
    status: decision.outcome,
    reason: decision.reason,
    rule: declineRule(decision.reason),
    decided_at: decision.decided_at,
    created_at: decision.created_at,
    partition: claim.request_partition,
    offset: claim.request_offset,
    correlation_id: claim.correlation_id ?? decision.correlation_id,
    duplicates: claim.duplicates,
    stale,
  };
}

/**
 * A payment decided by the single-stage consumer: its claim carries the outcome, the
 * time it was decided and nothing of the rule.
 */
function legacyStatus(claim: Claim, stale: boolean): PaymentStatus {
  return {
    payment_id: claim.payment_id,
    status: claim.outcome!,
    reason: null,
    rule: null,
    decided_at: claim.claimed_at,
    created_at: claim.created_at,
    partition: claim.request_partition,
    offset: claim.request_offset,
    correlation_id: claim.correlation_id,
    duplicates: claim.duplicates,
    stale,
  };
}
