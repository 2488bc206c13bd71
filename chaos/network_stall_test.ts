/**
 * Network stall: the broker JVM is frozen with SIGSTOP for longer than the clients'
 * request timeout (TCP connections stay open, nothing answers), then thawed.
 */
import assert from "node:assert/strict";
import { startThrowawayBroker } from "@payments/testing/brokers";
import { assertExactlyOnce, verifyResults } from "@payments/testing/exactly_once";
import { withTimeout } from "@payments/testing/wait";
import { reportFigures } from "@payments/testing/report";
import { startService } from "@payments/testing/services";
import { DEFAULT_TOPICS } from "@payments/shared/topics";
import { countStatuses, FAST_FAILURE_ENV, pick, sleep, startPaymentStream } from "./support.ts";

const STALL_MS = pick(12_000, 7_000); // > KAFKA_REQUEST_TIMEOUT_MS (3000)
const SEND_TIMEOUT_MS = Number(FAST_FAILURE_ENV.PRODUCER_SEND_TIMEOUT_MS);

Deno.test("a broker frozen with SIGSTOP makes requests time out with a clear 503, and everything recovers after SIGCONT", async () => {
  await withTimeout(
    (async () => {
      await using broker = await startThrowawayBroker();
      const env = { KAFKA_BROKERS: broker.bootstrap, ...FAST_FAILURE_ENV };
      await using producer = await startService("producer", { env });
      await using consumer = await startService("consumer", { env });

      const stream = startPaymentStream(producer.url, { ratePerSecond: 10, prefix: "STALL" });
      await sleep(2000);
      const pausedAt = Date.now();
      broker.pause();
      let probe: { status: number; ms: number; body: string } | undefined;
      try {
        await sleep(1000);
        const started = Date.now();
        const response = await fetch(`${producer.url}/payments`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({
            payment_id: "STALL-probe",
            amount: 1,
            merchant_id: "M",
            customer_id: "C",
          }),
        });
        probe = { status: response.status, ms: Date.now() - started, body: await response.text() };
        await sleep(Math.max(0, STALL_MS - (Date.now() - pausedAt)));
      } finally {
        broker.resume();
      }
      const resumedAt = Date.now();
      let recoveredAt = 0;
      while (Date.now() - resumedAt < 45_000) {
        const recent = stream.sent.filter((s) => s.at > Date.now() - 2000);
        if (recent.length >= 10 && recent.every((s) => s.status === 202)) {
          recoveredAt = Date.now();
          break;
        }
        await sleep(250);
      }
      await sleep(1000);
      const sent = await stream.stop();

      assert.equal(probe.status, 503, probe.body);
      // The configured bound plus slack; a hang would be far beyond it.
      assert.ok(probe.ms < SEND_TIMEOUT_MS + 2000, `503 after ${probe.ms} ms`);
      const problem = JSON.parse(probe.body);
      assert.equal(problem.status, 503);
      assert.ok(problem.detail || problem.title, "the 503 says what happened");
      const statuses = countStatuses(sent);
      assert.deepEqual(
        sent.filter((s) => s.status !== 202 && s.status !== 503).slice(0, 5),
        [],
        `only 202 and 503: ${JSON.stringify(statuses)}`,
      );
      assert.ok(recoveredAt > 0, "202s again after SIGCONT");
      const timeoutLines = [...producer.lines(), ...consumer.lines()].filter((l) =>
        /timed? ?out|timeout/i.test(l)
      );
      assert.ok(timeoutLines.length > 0, "the services log the timeouts");
      assert.equal(producer.hasExited, false, `producer exited:\n${producer.tail()}`);
      assert.equal(consumer.hasExited, false, `consumer exited:\n${consumer.tail()}`);

      const acked = sent.filter((s) => s.status === 202).map((s) => s.id);
      const verdict = await verifyResults(broker.bootstrap, DEFAULT_TOPICS.results, acked, 60_000);
      reportFigures("network stall (SIGSTOP)", {
        stall_ms: resumedAt - pausedAt,
        probe_status: probe.status,
        probe_ms: probe.ms,
        probe_detail: problem.detail ?? problem.title,
        sent: sent.length,
        acknowledged: acked.length,
        http_503: statuses["503"] ?? 0,
        recovery_after_sigcont_ms: recoveredAt - resumedAt,
        timeout_log_lines: timeoutLines.length,
        sample_timeout_log_line: timeoutLines[0]?.slice(0, 300) ?? null,
        results: verdict.answers,
        lost: verdict.lost.length,
        repeated_results: verdict.repeated.length,
        duplicates_approved: verdict.approvedTwice.length,
      });
      assertExactlyOnce(verdict);
    })(),
    pick(200_000, 150_000),
    "network stall scenario",
  );
});
