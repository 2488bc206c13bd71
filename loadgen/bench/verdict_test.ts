import assert from "node:assert/strict";
import { formatVerdict, type KeyedRecord, resultVerdict } from "./verdict.ts";

const input = (key: string, amount = 1): KeyedRecord => ({
  key,
  value: JSON.stringify({ payment_id: key, amount }),
});
const result = (key: string, outcome = "APPROVED"): KeyedRecord => ({
  key,
  value: JSON.stringify({ payment_id: key, outcome }),
});
const byAmount = (value: string) => (JSON.parse(value).amount > 100 ? "DECLINED" : "APPROVED");

Deno.test("one result per input is a pass, and outcomes are counted", () => {
  const v = resultVerdict([input("a"), input("b")], [result("b"), result("a", "DECLINED")]);
  assert.equal(v.ok, true);
  assert.deepEqual(
    { missing: v.missing, extra: v.extra, wrong: v.wrongOutcome },
    { missing: 0, extra: 0, wrong: 0 },
  );
  assert.deepEqual(v.outcomes, { APPROVED: 1, DECLINED: 1 });
});

Deno.test("an input without a result is missing", () => {
  const v = resultVerdict([input("a"), input("b")], [result("a")]);
  assert.equal(v.ok, false);
  assert.equal(v.missing, 1);
});

Deno.test("a second result, or one for no input, is extra", () => {
  const v = resultVerdict([input("a")], [result("a"), result("a"), result("zz")]);
  assert.equal(v.ok, false);
  assert.equal(v.extra, 2);
  assert.equal(v.missing, 0);
});

Deno.test("with rules, a result with another outcome than the rules give is wrong", () => {
  const v = resultVerdict([input("a", 5), input("b", 500)], [result("a"), result("b")], byAmount);
  assert.equal(v.ok, false);
  assert.equal(v.wrongOutcome, 1);
  assert.equal(
    resultVerdict(
      [input("a", 5), input("b", 500)],
      [result("a"), result("b", "DECLINED")],
      byAmount,
    )
      .ok,
    true,
  );
});

Deno.test("with rules, a repeated key expects DUPLICATE after its first decision", () => {
  const inputs = [input("a", 500), input("a", 5)];
  assert.equal(
    resultVerdict(inputs, [result("a", "DECLINED"), result("a", "DUPLICATE")], byAmount).ok,
    true,
  );
  const twice = resultVerdict(inputs, [result("a", "DECLINED"), result("a", "DECLINED")], byAmount);
  assert.equal(twice.ok, false);
  assert.equal(twice.wrongOutcome, 1);
});

Deno.test("an extra result is counted once, as extra, not also as a wrong outcome", () => {
  const v = resultVerdict([input("a")], [result("a"), result("a", "DUPLICATE")], byAmount);
  assert.deepEqual({ extra: v.extra, wrong: v.wrongOutcome }, { extra: 1, wrong: 0 });
});

Deno.test("without rules, outcomes are not judged; a value that is not JSON is unreadable", () => {
  const v = resultVerdict([input("a")], [{ key: "a", value: "not json" }]);
  assert.equal(v.ok, true);
  assert.deepEqual(v.outcomes, { unreadable: 1 });
  assert.equal(resultVerdict([input("a")], [{ key: "a", value: "{}" }], byAmount).wrongOutcome, 1);
});

Deno.test("the verdict reads as one line", () => {
  const v = resultVerdict([input("a"), input("b")], [result("b"), result("a", "DECLINED")]);
  assert.equal(
    formatVerdict(v),
    "2 results for 2 inputs read back read_committed: 0 missing, 0 extra, 0 wrong outcomes " +
      "(APPROVED 1, DECLINED 1)",
  );
});
