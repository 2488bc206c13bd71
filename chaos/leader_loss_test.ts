/**
 * Leader loss on a 3-node cluster: under a steady HTTP load, kill -9 the node that leads
 * most partitions of the requests topic.
 */
import assert from "node:assert/strict";
import { startKafkaCluster } from "@payments/kafka/cluster";
import { assertExactlyOnce, verifyResults } from "@payments/testing/exactly_once";
import { withTimeout } from "@payments/testing/wait";
import { reportFigures } from "@payments/testing/report";
import { startService } from "@payments/testing/services";
import { DEFAULT_TOPICS } from "@payments/shared/topics";
import {
  countStatuses,
  FAST_FAILURE_ENV,
  leaderCounts,
  pick,
  sleep,
  startPaymentStream,
} from "./support.ts";

const RATE = pick(25, 15);

Deno.test("killing the leader of most partitions loses no acknowledged payment and the consumer continues", async () => {
  await withTimeout(
    (async () => {
      await using cluster = await startKafkaCluster({ nodes: 3 });
      const env = { KAFKA_BROKERS: cluster.bootstrap, ...FAST_FAILURE_ENV };
      await using producer = await startService("producer", { env });
      await using consumer = await startService("consumer", { env });

      const stream = startPaymentStream(producer.url, { ratePerSecond: RATE, prefix: "LEAD" });
      await sleep(pick(5000, 3000));
      const counts = await leaderCounts(cluster.brokers, DEFAULT_TOPICS.requests);
      const [victim, led] = [...counts].sort((a, b) => b[1] - a[1])[0]!;
      const killedAt = Date.now();
      await cluster.killNode(victim);
      await sleep(pick(20_000, 12_000));
      const sent = await stream.stop();

      const statuses = countStatuses(sent);
      const unexpected = sent.filter((s) => s.status !== 202 && s.status !== 503);
      assert.deepEqual(unexpected.slice(0, 5), [], `only 202 and 503: ${JSON.stringify(statuses)}`);
      const afterKill = sent.filter((s) => s.at > killedAt);
      const failed = afterKill.filter((s) => s.status === 503);
      const lastFailure = Math.max(killedAt, ...failed.map((s) => s.at));
      const tail = sent.filter((s) => s.at > lastFailure);
      assert.ok(tail.length >= RATE * 3, "202s again for at least 3 s after the last 503");
      assert.equal(producer.hasExited, false, `producer exited:\n${producer.tail()}`);
      assert.equal(consumer.hasExited, false, `consumer exited:\n${consumer.tail()}`);

      const acked = sent.filter((s) => s.status === 202).map((s) => s.id);
      const survivors = cluster.brokers.filter((_, i) => cluster.nodeIds[i] !== victim);
      const verdict = await verifyResults(
        survivors.join(","),
        DEFAULT_TOPICS.results,
        acked,
        90_000,
      );
      reportFigures("leader loss (3 nodes, kill -9)", {
        quick: RATE < 25,
        killed_node: victim,
        partitions_it_led: led,
        sent: sent.length,
        acknowledged: acked.length,
        http_503: statuses["503"] ?? 0,
        unavailable_ms: lastFailure - killedAt,
        results: verdict.answers,
        lost: verdict.lost.length,
        repeated_results: verdict.repeated.length,
        duplicates_approved: verdict.approvedTwice.length,
      });
      assertExactlyOnce(verdict);
    })(),
    pick(300_000, 200_000),
    "leader loss scenario",
  );
});
