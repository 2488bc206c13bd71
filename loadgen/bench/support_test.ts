import assert from "node:assert/strict";
import { bucketQuantile, envPairs, finishedWithin, histogramBuckets } from "./support.ts";

Deno.test("--producer-env/--consumer-env pairs become an environment; a bad pair names its option", () => {
  assert.deepEqual(envPairs(["A=1", "B=x=y"], "--consumer-env"), { A: "1", B: "x=y" });
  assert.deepEqual(envPairs([], "--consumer-env"), {});
  assert.throws(
    () => envPairs(["=1"], "--producer-env"),
    /--producer-env takes KEY=VALUE \(got "=1"\)/,
  );
  assert.throws(() => envPairs(["NOVALUE"], "--consumer-env"), /--consumer-env/);
});

Deno.test("bucketQuantile finds the bucket of a quantile between two scrapes of one series", () => {
  const scrape = (fast: number, slow: number, other: number) =>
    [
      `h_bucket{le="0.1",service="p",status="202"} ${fast}`,
      `h_bucket{le="0.5",service="p",status="202"} ${fast + slow}`,
      `h_bucket{le="+Inf",service="p",status="202"} ${fast + slow}`,
      `h_bucket{le="0.1",service="p",status="503"} ${other}`,
      `h_bucket{le="+Inf",service="p",status="503"} ${other}`,
      `h_count{service="p",status="202"} ${fast + slow}`,
    ].join("\n");
  const before = histogramBuckets(scrape(10, 0, 5), "h", { status: "202" });
  assert.deepEqual([...before], [[0.1, 10], [0.5, 10], [Infinity, 10]]);
  const after = histogramBuckets(scrape(10 + 98, 2, 500), "h", { status: "202" });
  assert.equal(bucketQuantile(before, after, 0.5), 0.1);
  assert.equal(bucketQuantile(before, after, 0.98), 0.1);
  assert.equal(bucketQuantile(before, after, 0.99), 0.5);
  assert.equal(bucketQuantile(before, before, 0.99), undefined, "nothing observed");
});

Deno.test("finishedWithin resolves with the run and rejects at the deadline with how far it got", async () => {
  await finishedWithin(Promise.resolve(), 1000, () => "never read");
  const count = 7;
  const never = new Promise<void>(() => {});
  await assert.rejects(
    () => finishedWithin(never, 20, () => `read ${count} of 10`),
    /read 7 of 10/,
  );
});
