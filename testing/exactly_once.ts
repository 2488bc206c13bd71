/**
 * The exactly-once verdict, the pipeline's central promise judged on what was committed:
 * every input has exactly one answer (a result or a dead letter) and no payment is
 * approved twice. Judged per input record (a consumer test knows what it wrote: the
 * answers' `origin` or `original_*` headers name their input) or per
 * acknowledged payment id (a test over HTTP knows what was answered 202). One
 * {@linkcode assertExactlyOnce} fails on either.
 *
 * @example
 * ```ts
 * assertExactlyOnce(judgeAnswers(await readAnswers(t, 10), 10, t.topics.requests));
 * assertExactlyOnce(await verifyResults(bootstrap, topics.results, acknowledged, 60_000));
 * ```
 *
 * @module
 */
import assert from "node:assert/strict";
import { readCommitted, type TopicRecord } from "./kcat.ts";

/** One committed answer, as the verdict reads it. */
export interface Answered {
  /** `origin` (results), or `original_topic`, `original_partition`, `original_offset` (dead letters) */
  headers: Record<string, string>;
  /** The result; undefined for a dead letter. */
  result?: { payment_id: string; outcome: string };
}

/** What was committed for a set of inputs, judged. */
export interface Verdict {
  /** Inputs that must be answered: input records, or acknowledged payment ids. */
  expected: number;
  /** Of them, how many have at least one answer. */
  answered: number;
  /** Answers read. */
  answers: number;
  /** Answers naming an input of another topic. */
  foreign: string[];
  /** Inputs (`partition@offset`, or payment ids) answered more than once. */
  repeated: string[];
  /** Acknowledged payment ids without a result (judged by id only). */
  lost: string[];
  /** Payment ids approved more than once. */
  approvedTwice: string[];
}

function approvedTwice(answers: Answered[]): string[] {
  const approved = new Map<string, number>();
  for (const { result } of answers) {
    if (result?.outcome !== "APPROVED") continue;
    approved.set(result.payment_id, (approved.get(result.payment_id) ?? 0) + 1);
  }
  return [...approved].filter(([, n]) => n > 1).map(([id]) => id);
}

/** Judges `answers` to `inputs` records of `requestsTopic`, by the input each names. */
export function judgeAnswers(answers: Answered[], inputs: number, requestsTopic: string): Verdict {
  const perInput = new Map<string, number>();
  const foreign: string[] = [];
  for (const { headers } of answers) {
    // A result names its input in one `origin` header (topic:partition:offset), a dead
    // letter (and a result of an older worker) in the three `original_*` headers.
    const [topic, partition, offset] = headers.origin?.split(":") ??
      [headers.original_topic, headers.original_partition, headers.original_offset];
    const input = `${partition}@${offset}`;
    if (topic !== requestsTopic) foreign.push(`${topic} ${input}`);
    perInput.set(input, (perInput.get(input) ?? 0) + 1);
  }
  return {
    expected: inputs,
    answered: perInput.size,
    answers: answers.length,
    foreign,
    repeated: [...perInput].filter(([, n]) => n > 1).map(([input]) => input),
    lost: [],
    approvedTwice: approvedTwice(answers),
  };
}

/** Judges the result records of `acknowledged` payment ids, by payment id. */
export function judgeResults(results: TopicRecord[], acknowledged: string[]): Verdict {
  const answers = answersOf(results, []);
  const perId = new Map<string, number>();
  for (const [i, { result }] of answers.entries()) {
    const id = result?.payment_id ?? results[i]!.key ?? "";
    perId.set(id, (perId.get(id) ?? 0) + 1);
  }
  const lost = acknowledged.filter((id) => !perId.has(id));
  return {
    expected: acknowledged.length,
    answered: acknowledged.length - lost.length,
    answers: results.length,
    foreign: [],
    repeated: acknowledged.filter((id) => (perId.get(id) ?? 0) > 1),
    lost,
    approvedTwice: approvedTwice(answers),
  };
}

/** kcat's records of the results and dead-letter topics as answers. */
export function answersOf(results: TopicRecord[], deadLetters: TopicRecord[]): Answered[] {
  return [
    ...results.map((r) => ({
      headers: r.headers,
      result: JSON.parse(r.payload ?? "{}") as { payment_id: string; outcome: string },
    })),
    ...deadLetters.map((r) => ({ headers: r.headers })),
  ];
}

/**
 * Reads the committed results (kcat, read_committed) until every acknowledged id has
 * one or `timeoutMs` passes, then judges them by payment id.
 */
export async function verifyResults(
  bootstrap: string,
  resultsTopic: string,
  acknowledged: string[],
  timeoutMs: number,
): Promise<Verdict> {
  const deadline = Date.now() + timeoutMs;
  let records: TopicRecord[] = [];
  for (;;) {
    records = await readCommitted(bootstrap, resultsTopic);
    const seen = new Set(records.map((r) => r.key));
    if (acknowledged.every((id) => seen.has(id)) || Date.now() > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  return judgeResults(records, acknowledged);
}

/**
 * Fails unless every input has exactly one answer and no payment was approved twice.
 * Lists show their first 20 entries.
 */
export function assertExactlyOnce(verdict: Verdict): void {
  const first = (list: string[]) => list.slice(0, 20);
  assert.deepEqual(first(verdict.foreign), [], "answers to records of another topic");
  assert.deepEqual(first(verdict.repeated), [], "inputs answered more than once");
  assert.deepEqual(first(verdict.lost), [], "acknowledged payments without a result");
  assert.equal(verdict.answered, verdict.expected, "inputs with an answer");
  assert.deepEqual(first(verdict.approvedTwice), [], "payments approved twice");
}
