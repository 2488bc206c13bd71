import assert from "node:assert/strict";
import { type Answered, assertExactlyOnce, judgeAnswers, judgeResults } from "./exactly_once.ts";
import type { TopicRecord } from "./kcat.ts";

const answer = (offset: number, outcome?: string, id = `P-${offset}`, topic = "in"): Answered => ({
  headers: { original_topic: topic, original_partition: "0", original_offset: String(offset) },
  ...(outcome ? { result: { payment_id: id, outcome } } : {}),
});

const result = (key: string, outcome: string): TopicRecord => ({
  topic: "results",
  partition: 0,
  offset: 0,
  key,
  payload: JSON.stringify({ payment_id: key, outcome }),
  headers: {},
});

Deno.test("one answer per input record, a dead letter among them, passes", () => {
  const verdict = judgeAnswers(
    [answer(0, "APPROVED"), answer(1), answer(2, "DUPLICATE", "P-0")],
    3,
    "in",
  );
  assert.deepEqual(verdict, {
    expected: 3,
    answered: 3,
    answers: 3,
    foreign: [],
    repeated: [],
    lost: [],
    approvedTwice: [],
  });
  assertExactlyOnce(verdict);
});

Deno.test("an input answered twice, one unanswered, a foreign answer and a double approval each fail", () => {
  const cases: [Answered[], RegExp][] = [
    [[answer(0, "APPROVED"), answer(0, "APPROVED", "P-9"), answer(1)], /answered more than once/],
    [[answer(0, "APPROVED"), answer(1)], /inputs with an answer/],
    [[answer(0), answer(1), answer(2, "APPROVED", "P-2", "other")], /another topic/],
    [[answer(0, "APPROVED", "P-1"), answer(1, "APPROVED", "P-1"), answer(2)], /approved twice/],
  ];
  for (const [answers, why] of cases) {
    assert.throws(() => assertExactlyOnce(judgeAnswers(answers, 3, "in")), why);
  }
});

Deno.test("results judged by acknowledged id name the lost and the repeated ones", () => {
  const verdict = judgeResults(
    [result("A", "APPROVED"), result("B", "APPROVED"), result("B", "APPROVED")],
    ["A", "B", "C"],
  );
  assert.deepEqual(verdict.lost, ["C"]);
  assert.deepEqual(verdict.repeated, ["B"]);
  assert.deepEqual(verdict.approvedTwice, ["B"]);
  assert.equal(verdict.answered, 2);
  assert.throws(() => assertExactlyOnce(verdict), /answered more than once/);
  assertExactlyOnce(judgeResults([result("A", "APPROVED")], ["A"]));
});
