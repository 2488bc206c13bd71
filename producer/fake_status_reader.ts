/**
 * An in-memory {@linkcode PaymentStatusReader} for unit tests of the HTTP layer: answers
 * what it is told, per payment id or for every id, and records what it was asked.
 *
 * @module
 */
import type { PaymentStatus } from "./schemas.ts";
import type { PaymentStatusReader, StatusAnswer } from "./status/status_reader.ts";

/** A decided payment's status with every field filled, for tests. */
export function decidedStatus(
  paymentId: string,
  fields: Partial<PaymentStatus> = {},
): PaymentStatus {
  return {
    payment_id: paymentId,
    status: "APPROVED",
    reason: null,
    rule: null,
    decided_at: "2026-12-01T10:00:00.250Z",
    created_at: "2026-12-01T10:00:00.000Z",
    partition: 2,
    offset: 41,
    correlation_id: "corr-1",
    duplicates: 0,
    stale: false,
    ...fields,
  };
}

/** What the fake answers ids it was not told about. */
export type FakeStatusBehaviour = StatusAnswer["kind"];

/** In-memory reader; see the module documentation. */
export class FakeStatusReader implements PaymentStatusReader {
  /** Answers by payment id, before {@linkcode behaviour}. */
  readonly answers = new Map<string, StatusAnswer>();
  /** What every other id gets. */
  behaviour: FakeStatusBehaviour = "unknown";
  /** Every read, in order. */
  readonly reads: { paymentId: string; waitMs: number }[] = [];

  read(paymentId: string, options: { waitMs: number }): Promise<StatusAnswer> {
    this.reads.push({ paymentId, waitMs: options.waitMs });
    const answer = this.answers.get(paymentId) ?? this.#answer(paymentId);
    return Promise.resolve(answer);
  }

  #answer(paymentId: string): StatusAnswer {
    switch (this.behaviour) {
      case "decided":
        return { kind: "decided", status: decidedStatus(paymentId) };
      case "deciding":
        return { kind: "deciding", claimedAt: "2026-12-01T10:00:00.100Z" };
      case "unavailable":
        return { kind: "unavailable", detail: "no instance owns payments-2 now (fake)" };
      case "unknown":
        return { kind: "unknown" };
    }
  }
}
