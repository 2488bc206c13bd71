/**
 * The two kinds of task, and what each is made of: its input topic, the changelog its
 * store follows, how its store opens and how a changelog record reads back, and its
 * processor. The task manager and the standby stores treat both alike through this.
 *
 * - payment tasks read `payment_requests` (keyed by payment id): de-duplication,
 *   dead letters, claims, forwards (`payments/`);
 * - customer tasks read `payment_requests.by_customer` (keyed by customer id): the
 *   rules and the velocity limit, results, decisions (`customers/`).
 *
 * @module
 */
import type { TopicNames } from "@payments/shared/topics";
import { type Decision, readDecision } from "../customers/decision_records.ts";
import { type DecisionStore, openDecisionStore } from "../customers/decision_store.ts";
import { type Claim, readClaim } from "../payments/claim_records.ts";
import { type ClaimStore, openClaimStore } from "../payments/claim_store.ts";
import { readChangelogRecord } from "../store/changelog_records.ts";
import type { ChangelogReader } from "../store/changelog_restorer.ts";
import type { OpenedStore, OpenStoreOptions, TaskStore } from "../store/sqlite_store.ts";
import type { StoreCheck } from "../store/store_check.ts";
import type { ChunkProcessor } from "./chunk.ts";
import type { TaskId } from "./task_id.ts";

export { taskName } from "./task_id.ts";

/** One kind of task. */
export interface TaskKind<Row = unknown, S extends TaskStore<Row> = TaskStore<Row>> {
  name: TaskId["kind"];
  inputTopic: string;
  changelogTopic: string;
  openStore(options: OpenStoreOptions, checked?: StoreCheck): OpenedStore<S>;
  /** The store's table (what a store check counts). */
  storeTable: string;
  readChangelog: ChangelogReader<Row>;
  processor: ChunkProcessor<Row, S>;
}

/** The payment tasks' kind. */
export type PaymentsKind = TaskKind<Claim, ClaimStore>;
/** The customer tasks' kind. */
export type CustomersKind = TaskKind<Decision, DecisionStore>;

/** Both kinds, by name. */
export interface TaskKinds {
  payments: PaymentsKind;
  customers: CustomersKind;
}

/** The payment and customer task kinds over the given processors. */
export function taskKinds(
  topics: TopicNames,
  processors: {
    payments: ChunkProcessor<Claim, ClaimStore>;
    customers: ChunkProcessor<Decision, DecisionStore>;
  },
): TaskKinds {
  return {
    payments: {
      name: "payments",
      inputTopic: topics.requests,
      changelogTopic: topics.decisions,
      openStore: openClaimStore,
      storeTable: "claims",
      readChangelog: (key, value) => readChangelogRecord(key, value, readClaim),
      processor: processors.payments,
    },
    customers: {
      name: "customers",
      inputTopic: topics.byCustomer,
      changelogTopic: topics.customerDecisions,
      openStore: openDecisionStore,
      storeTable: "decisions",
      readChangelog: (key, value) => readChangelogRecord(key, value, readDecision),
      processor: processors.customers,
    },
  };
}

/** The task kind reading `topic`, if any. */
export function kindOfTopic(kinds: TaskKinds, topic: string): TaskId["kind"] | undefined {
  if (topic === kinds.payments.inputTopic) return "payments";
  if (topic === kinds.customers.inputTopic) return "customers";
  return undefined;
}
