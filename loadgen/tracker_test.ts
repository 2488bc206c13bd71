import assert from "node:assert/strict";
import { ResultTracker } from "./tracker.ts";

const result = (paymentId: string, outcome = "APPROVED", latency = 20) => ({
  paymentId,
  outcome,
  timestampMs: 1_000_000 + latency,
  createdAtMs: 1_000_000,
});

Deno.test("every accepted payment with one result: nothing missing, verdict ok", () => {
  const tracker = new ResultTracker();
  tracker.accepted(["a", "b"]);
  assert.equal(tracker.outstanding, 2);
  tracker.observe(result("a"));
  tracker.observe(result("b", "DECLINED", 40));
  assert.equal(tracker.outstanding, 0);
  const summary = tracker.summary({ timedOut: false, waitedMs: 5 });
  assert.equal(summary.ok, true);
  assert.equal(summary.missing, 0);
  assert.deepEqual(summary.outcomes, { APPROVED: 1, DECLINED: 1 });
  assert.equal(summary.endToEnd.count, 2);
  assert.equal(summary.endToEnd.max, 40);
  assert.equal(summary.visible.count, 0, "no read time given, no visibility sample");
});

Deno.test("visibility latency runs from accept to the reader having the result", () => {
  const tracker = new ResultTracker();
  tracker.accepted(["a"]);
  tracker.observe({ ...result("a", "APPROVED", 20), readAtMs: 1_000_000 + 75 });
  const summary = tracker.summary({ timedOut: false, waitedMs: 0 });
  assert.equal(summary.endToEnd.max, 20);
  assert.equal(summary.visible.max, 75);
});

Deno.test("a result may arrive before its 202 is counted", () => {
  const tracker = new ResultTracker();
  tracker.observe(result("a"));
  tracker.accepted(["a"]);
  assert.equal(tracker.outstanding, 0);
  assert.equal(tracker.summary({ timedOut: false, waitedMs: 0 }).ok, true);
});

Deno.test("a missing result fails the verdict", () => {
  const tracker = new ResultTracker();
  tracker.accepted(["a", "b"]);
  tracker.observe(result("a"));
  const summary = tracker.summary({ timedOut: true, waitedMs: 1000 });
  assert.equal(summary.missing, 1);
  assert.equal(summary.ok, false);
  assert.equal(summary.timedOut, true);
});

Deno.test("a resent payment needs two results; APPROVED then DUPLICATE is fine", () => {
  const tracker = new ResultTracker();
  tracker.accepted(["a"]);
  tracker.observe(result("a"));
  tracker.accepted(["a"]);
  assert.equal(tracker.outstanding, 1);
  tracker.observe(result("a", "DUPLICATE"));
  const summary = tracker.summary({ timedOut: false, waitedMs: 0 });
  assert.equal(summary.ok, true);
  assert.equal(summary.extra, 0);
  assert.deepEqual(summary.outcomes, { APPROVED: 1, DUPLICATE: 1 });
});

Deno.test("two approvals of one id fail the verdict; a surplus result counts as extra", () => {
  const tracker = new ResultTracker();
  tracker.accepted(["a", "b"]);
  tracker.observe(result("a"));
  tracker.observe(result("a"));
  tracker.observe(result("b", "DECLINED"));
  tracker.observe(result("b", "DUPLICATE"));
  const summary = tracker.summary({ timedOut: false, waitedMs: 0 });
  assert.equal(summary.doubleApprovals, 1);
  assert.equal(summary.extra, 2);
  assert.equal(summary.ok, false);
});

Deno.test("results for rejected payments are unexpected; for failed requests they are resolved", () => {
  const tracker = new ResultTracker();
  tracker.rejected(["r"]);
  tracker.unknown(["u"]);
  tracker.observe(result("r"));
  tracker.observe(result("u"));
  const summary = tracker.summary({ timedOut: false, waitedMs: 0 });
  assert.equal(summary.unexpected, 1);
  assert.equal(summary.resolvedUnknown, 1);
  assert.equal(summary.extra, 0);
  assert.equal(summary.ok, true);
});

Deno.test("a result for a shed payment fails the verdict: shed means nothing was written", () => {
  const tracker = new ResultTracker();
  tracker.accepted(["a"]);
  tracker.shed(["s1", "s2"]);
  tracker.observe(result("a"));
  assert.equal(tracker.summary({ timedOut: false, waitedMs: 0 }).ok, true);
  tracker.observe(result("s2"));
  const summary = tracker.summary({ timedOut: false, waitedMs: 0 });
  assert.equal(summary.shedWritten, 1);
  assert.equal(summary.unexpected, 0);
  assert.equal(summary.extra, 0);
  assert.equal(summary.ok, false);
});

Deno.test("the listener sees each outcome and its end-to-end latency", () => {
  const seen: Array<[string, number | undefined]> = [];
  const tracker = new ResultTracker((outcome, ms) => seen.push([outcome, ms]));
  tracker.observe(result("a", "APPROVED", 12));
  tracker.observe({ paymentId: "b", outcome: "DECLINED", timestampMs: 5 });
  assert.deepEqual(seen, [["APPROVED", 12], ["DECLINED", undefined]]);
});
