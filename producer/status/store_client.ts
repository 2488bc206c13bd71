/**
 * The producer's client of the consumers' store reads (`consumer/store_reads.ts`):
 * `GET <endpoint>/stores/{payments|customers}/{partition}/{payment_id}?wait=<ms>` on the
 * instance the group names, its answer parsed into one of four outcomes. Nothing here
 * decides what to do about an outcome (`status_reader.ts` does): a refused connection,
 * a timeout, a 5xx and an answer that is not what a consumer sends are all
 * `unreachable`, because the caller treats them alike (another replica, or 503).
 *
 * @module
 */
import { z } from "zod";
import type { TaskKindName } from "@payments/shared/task_group";

/** A claim as a payments store answers it. */
export const ClaimSchema = z.object({
  payment_id: z.string(),
  customer_id: z.string(),
  created_at: z.string(),
  claimed_at: z.string(),
  request_partition: z.number().int(),
  request_offset: z.number().int(),
  correlation_id: z.string().nullable(),
  duplicates: z.number().int().min(0),
  /** Only on payments decided by the single-stage consumer, whose claims carry the outcome. */
  outcome: z.enum(["APPROVED", "DECLINED"]).optional(),
});
/** A payment task's claim of a payment. */
export type Claim = z.output<typeof ClaimSchema>;

/** A decision as a customers store answers it. */
export const DecisionSchema = z.object({
  payment_id: z.string(),
  outcome: z.enum(["APPROVED", "DECLINED"]),
  reason: z.string().nullable(),
  customer_id: z.string(),
  created_at: z.string(),
  decided_at: z.string(),
  request_partition: z.number().int(),
  request_offset: z.number().int(),
  correlation_id: z.string().nullable(),
});
/** A customer task's decision of a payment. */
export type Decision = z.output<typeof DecisionSchema>;

const Replica = { replica: z.enum(["active", "standby"]), stale: z.boolean() };
const FoundClaim = z.object({ ...Replica, claim: ClaimSchema });
const FoundDecision = z.object({ ...Replica, decision: DecisionSchema });
const Problem = z.object({ type: z.string(), stale: z.boolean().optional() });

/** What one store answered. */
export type StoreRead<Row> =
  /** The row; `stale` when a standby answered (it may lag its changelog). */
  | { kind: "found"; row: Row; stale: boolean }
  /** The store has no such row; from a standby (`stale`) that proves nothing. */
  | { kind: "absent"; stale: boolean }
  /** The instance holds no store of that task now (421): ask the group again. */
  | { kind: "elsewhere" }
  /** No usable answer: refused, timed out, 5xx, or not a consumer's answer. */
  | { kind: "unreachable"; reason: string };

/** Options of one read. */
export interface ReadOptions {
  /** How long the store may hold the request for the row to appear (`?wait=`), in ms. */
  waitMs: number;
}

/** Reads of the two kinds of store. */
export interface StoreClient {
  claim(endpoint: string, partition: number, paymentId: string, options: ReadOptions): Promise<
    StoreRead<Claim>
  >;
  decision(
    endpoint: string,
    partition: number,
    paymentId: string,
    options: ReadOptions,
  ): Promise<StoreRead<Decision>>;
}

/** What {@linkcode createStoreClient} needs. */
export interface StoreClientDeps {
  /** Injected for tests (default: the global `fetch`, which keeps connections alive). */
  fetch?: typeof fetch;
  /** How long past its wait a store may take to answer before it counts as unreachable. */
  graceMs?: number;
}

const UNKNOWN_TYPE = "urn:payments:problem:payment-unknown";
const ELSEWHERE_STATUS = 421;

/** Creates the client. */
export function createStoreClient(deps: StoreClientDeps = {}): StoreClient {
  const fetchFn = deps.fetch ?? fetch;
  const graceMs = deps.graceMs ?? 2000;

  async function read<Row>(
    kind: TaskKindName,
    endpoint: string,
    partition: number,
    paymentId: string,
    options: ReadOptions,
    parse: (body: unknown) => { row: Row; stale: boolean } | undefined,
  ): Promise<StoreRead<Row>> {
    const waitMs = Math.max(0, Math.floor(options.waitMs));
    // Ids are 1-64 of [A-Za-z0-9._:-], all valid in a path segment; encoding is a guard.
    const url = `${endpoint}/stores/${kind}/${partition}/${encodeURIComponent(paymentId)}` +
      (waitMs > 0 ? `?wait=${waitMs}` : "");
    const timeout = AbortSignal.timeout(waitMs + graceMs);
    let response: Response;
    try {
      response = await fetchFn(url, { signal: timeout });
    } catch (error) {
      const why = timeout.aborted ? `no answer within ${waitMs + graceMs} ms` : describe(error);
      return { kind: "unreachable", reason: `${url}: ${why}` };
    }
    let body: unknown;
    try {
      body = await response.json();
    } catch {
      return { kind: "unreachable", reason: `${url} answered ${response.status} without JSON` };
    }
    if (response.status === 200) {
      const parsed = parse(body);
      return parsed
        ? { kind: "found", ...parsed }
        : { kind: "unreachable", reason: `${url} answered 200 with an unexpected body` };
    }
    if (response.status === ELSEWHERE_STATUS) return { kind: "elsewhere" };
    const problem = Problem.safeParse(body);
    // Another 404 (no such route) is an instance that cannot answer, not an unknown payment.
    if (response.status === 404 && problem.success && problem.data.type === UNKNOWN_TYPE) {
      return { kind: "absent", stale: problem.data.stale ?? false };
    }
    return { kind: "unreachable", reason: `${url} answered ${response.status}` };
  }

  return {
    claim: (endpoint, partition, paymentId, options) =>
      read("payments", endpoint, partition, paymentId, options, (body) => {
        const parsed = FoundClaim.safeParse(body);
        return parsed.success ? { row: parsed.data.claim, stale: parsed.data.stale } : undefined;
      }),
    decision: (endpoint, partition, paymentId, options) =>
      read("customers", endpoint, partition, paymentId, options, (body) => {
        const parsed = FoundDecision.safeParse(body);
        return parsed.success ? { row: parsed.data.decision, stale: parsed.data.stale } : undefined;
      }),
  };
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
