/**
 * Broker outage, single node: a steady stream of HTTP payments while the only broker is
 * stopped for ~10 s (4 s with CHAOS_QUICK=1) and started again on the same data.
 */
import assert from "node:assert/strict";
import { startThrowawayBroker } from "@payments/testing/brokers";
import { assertExactlyOnce, verifyResults } from "@payments/testing/exactly_once";
import { withTimeout } from "@payments/testing/wait";
import { reportFigures } from "@payments/testing/report";
import { startService } from "@payments/testing/services";
import { DEFAULT_TOPICS } from "@payments/shared/topics";
import { countStatuses, FAST_FAILURE_ENV, pick, sleep, startPaymentStream } from "./support.ts";

const OUTAGE_MS = pick(10_000, 4_000);
const RATE = pick(25, 15);

Deno.test("a broker outage gives only 202 or 503, the pipeline recovers by itself, and every 202 gets exactly one result", async () => {
  await withTimeout(
    (async () => {
      await using broker = await startThrowawayBroker();
      const env = { KAFKA_BROKERS: broker.bootstrap, ...FAST_FAILURE_ENV };
      await using producer = await startService("producer", { env });
      await using consumer = await startService("consumer", { env });

      const stream = startPaymentStream(producer.url, { ratePerSecond: RATE, prefix: "OUT" });
      await sleep(pick(4000, 2000));
      const haltedAt = Date.now();
      await broker.halt();
      await sleep(OUTAGE_MS);
      const restartedAt = Date.now();
      await broker.start();
      const upAt = Date.now();
      // Recovery must come by itself: wait for a run of 202s after the broker is back.
      const deadline = Date.now() + 45_000;
      while (Date.now() < deadline) {
        const recent = stream.sent.filter((s) => s.at > Date.now() - 2000);
        if (recent.length >= RATE && recent.every((s) => s.status === 202)) break;
        await sleep(250);
      }
      const recoveredAt = Date.now();
      await sleep(2000);
      const sent = await stream.stop();

      const statuses = countStatuses(sent);
      const unexpected = sent.filter((s) => s.status !== 202 && s.status !== 503);
      assert.deepEqual(
        unexpected.slice(0, 5),
        [],
        `only 202 and 503 allowed: ${JSON.stringify(statuses)}`,
      );
      const during = sent.filter((s) => s.at > haltedAt + 3000 && s.at < restartedAt);
      assert.ok(
        during.length > 0 && during.every((s) => s.status === 503),
        "503 during the outage",
      );
      const after = sent.filter((s) => s.at > recoveredAt - 2000);
      assert.ok(after.length > 0 && after.every((s) => s.status === 202), "recovered by itself");
      assert.equal(producer.hasExited, false, `producer exited:\n${producer.tail()}`);
      assert.equal(consumer.hasExited, false, `consumer exited:\n${consumer.tail()}`);

      const acked = sent.filter((s) => s.status === 202).map((s) => s.id);
      const verdict = await verifyResults(broker.bootstrap, DEFAULT_TOPICS.results, acked, 60_000);
      reportFigures("broker outage (single node)", {
        quick: OUTAGE_MS < 10_000,
        outage_ms: OUTAGE_MS,
        sent: sent.length,
        acknowledged: acked.length,
        http_503: statuses["503"] ?? 0,
        results: verdict.answers,
        lost: verdict.lost.length,
        repeated_results: verdict.repeated.length,
        duplicates_approved: verdict.approvedTwice.length,
        broker_restart_ms: upAt - restartedAt,
        recovery_after_restart_ms: recoveredAt - upAt,
      });
      assertExactlyOnce(verdict);
    })(),
    pick(240_000, 150_000),
    "broker outage scenario",
  );
});
