import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { freePort, sharedBrokers } from "@payments/testing/brokers";
import type { LoadReport } from "./report.ts";
import { startService } from "@payments/testing/services";
import { createTopics, deleteTopics, uniqueTopics } from "@payments/testing/topics";

const MAIN = fileURLToPath(new URL("./main.ts", import.meta.url));

function isErrorLine(line: string): boolean {
  try {
    const level = JSON.parse(line).level;
    return level === "error" || level === "fatal";
  } catch {
    return true;
  }
}

interface VerifiedRun {
  report: LoadReport;
  /** Everything the CLI printed. */
  out: string;
  /** The CLI's output and both services' log tails, for failure messages. */
  context: () => string;
  /** Every line the services wrote during the run. */
  producerLines: string[];
  consumerLines: string[];
}

/**
 * Runs `deno task load --verify` as a subprocess against a producer and a consumer on
 * fresh topics of the shared broker, and returns its JSON report (exit code 0 asserted).
 */
async function verifiedLoad(
  prefix: string,
  args: string[],
  producerEnv: Record<string, string> = {},
): Promise<VerifiedRun> {
  const brokers = sharedBrokers();
  const topics = uniqueTopics(prefix);
  await createTopics(brokers, topics, 6);
  const jsonFile = await Deno.makeTempFile({ suffix: ".json" });
  const common = { brokers, topics, groupId: `${prefix}-${crypto.randomUUID().slice(0, 8)}` };
  const producer = await startService("producer", {
    ...common,
    port: freePort("127.0.0.1"),
    env: producerEnv,
  });
  const consumer = await startService("consumer", { ...common, port: freePort("127.0.0.1") })
    .catch(async (error) => {
      await producer.stop();
      throw error;
    });
  try {
    const cli = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        MAIN,
        "--url",
        producer.url,
        ...args,
        "--verify",
        "--brokers",
        brokers.join(","),
        "--results-topic",
        topics.results,
        "--json",
        jsonFile,
        "--progress",
        "none",
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const out = new TextDecoder().decode(cli.stdout) + new TextDecoder().decode(cli.stderr);
    const context = () =>
      `${out}\n--- producer ---\n${producer.tail()}\n--- consumer ---\n${consumer.tail()}`;
    assert.equal(cli.code, 0, `load exited with ${cli.code}:\n${context()}`);
    return {
      report: JSON.parse(await Deno.readTextFile(jsonFile)),
      out,
      context,
      producerLines: producer.lines(),
      consumerLines: consumer.lines(),
    };
  } finally {
    await Promise.all([producer.stop(), consumer.stop()]);
    await Deno.remove(jsonFile).catch(() => {});
    await deleteTopics(brokers, [topics.requests, topics.results, topics.dlq]);
  }
}

Deno.test({
  name: "a verified load through producer and consumer accounts for every payment sent",
  sanitizeResources: false, // kafkajs keeps sockets around briefly after disconnect
  sanitizeOps: false,
  async fn() {
    const { report, out, context, producerLines, consumerLines } = await verifiedLoad(
      "loadgen-it",
      [
        "--count",
        "2000",
        "--batch-size",
        "50",
        "--concurrency",
        "4",
        "--invalid-ratio",
        "0.05",
        "--duplicate-ratio",
        "0.05",
        "--seed",
        "20260101",
        "--verify-timeout",
        "40s",
      ],
    );
    const p = report.payments;
    assert.equal(p.sent, 2000, context());
    assert.equal(p.accepted + p.rejected, p.sent, context());
    assert.equal(p.errors, 0, context());
    assert.ok(p.invalidSent > 0, "the run must include invalid payments");
    assert.equal(p.rejected, p.invalidSent, "exactly the invalid requests are rejected");
    assert.equal(p.invalidAccepted, 0);
    assert.ok(p.duplicatesAccepted > 0, "the run must include resent payment ids");
    const v = report.verify!;
    assert.ok(v, "the report carries the verification");
    assert.equal(v.expected, p.accepted);
    assert.equal(v.missing, 0, context());
    assert.equal(v.doubleApprovals, 0, context());
    assert.equal(v.unexpected, 0, "no result for a rejected payment");
    assert.ok((v.outcomes.DUPLICATE ?? 0) >= p.duplicatesAccepted, JSON.stringify(v.outcomes));
    assert.match(out, /Verification: OK/);

    // Quiet when healthy: a clean run prints no error-level line from either service
    // (JSON Lines; anything that is not JSON, a stack trace say, counts as an error).
    assert.ok(
      consumerLines.some((line) => line.includes('"outcome":"APPROVED"')),
      "the consumer's lines were read",
    );
    const loud = [...producerLines, ...consumerLines].filter(isErrorLine);
    assert.deepEqual(loud, [], "error-level lines during a healthy verified run");
  },
});

Deno.test({
  name:
    "against an overloaded producer the load reports shed answers apart, resends them, and verifies none was written twice",
  sanitizeResources: false, // kafkajs keeps sockets around briefly after disconnect
  sanitizeOps: false,
  async fn() {
    const { report, out, context, producerLines } = await verifiedLoad(
      "loadgen-shed",
      [
        "--count",
        "5000",
        "--batch-size",
        "100",
        "--concurrency",
        "32",
        "--retry-shed",
        "--verify-timeout",
        "60s",
      ],
      { PRODUCER_MAX_INFLIGHT_PAYMENTS: "500", PRODUCER_RETRY_AFTER_SECONDS: "1" },
    );
    const p = report.payments;
    assert.ok(p.shed > 0, `32 requests of 100 on a budget of 500 must shed:\n${context()}`);
    assert.equal(p.accepted, 5000, "every payment got in, some after being shed");
    assert.equal(p.errors, 0, context());
    assert.equal(p.accepted + p.shed, p.sent, "resends count as sent");
    assert.equal(report.requests.byStatus["503 shed"]! * 100, p.shed);
    const v = report.verify!;
    assert.equal(v.expected, 5000);
    assert.equal(v.missing, 0, context());
    assert.equal(v.extra, 0, context());
    assert.equal(v.shedWritten, 0, "a shed request wrote nothing, so no payment has two results");
    assert.equal(v.doubleApprovals, 0, context());
    assert.match(
      out,
      /^\s+shed\s+[\d,]+ \(\d+\.\d%\)\s+\(503 overloaded: refused, nothing written\)/m,
    );
    assert.match(out, /^\s+503 shed\s+[\d,]+$/m);
    assert.match(out, /Verification: OK/);
    // Shedding is the producer working as designed: warnings, never an error line.
    assert.deepEqual(producerLines.filter(isErrorLine), [], "error-level lines while shedding");
    assert.ok(
      producerLines.some((line) => line.includes("Overloaded: shed")),
      "the producer says (rate-limited) that it sheds",
    );
  },
});
