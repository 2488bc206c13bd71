/**
 * `deno task dev` as a newcomer meets it: the README's curl request, followed by its
 * correlation id through both services' output; Prometheus scraping both services;
 * JSON Lines with `--json`; one Ctrl-C stopping everything.
 */
import { topicsEnv } from "@payments/shared/topics";
import assert from "node:assert/strict";
import { freePort, sharedBrokers } from "@payments/testing/brokers";
import { createTopics, deleteTopics, uniqueTopics } from "@payments/testing/topics";
import { shortCorrelationId } from "@payments/shared/logging";
import { findRuleFiles } from "./dev_prometheus.ts";
import { devJaegerEnv, readmeCurl, startDev, waitUntilOk } from "./dev_support.ts";

interface Target {
  labels: { job: string };
  health: string;
  lastError: string;
}

async function upJobs(prometheusUrl: string): Promise<Target[]> {
  const response = await fetch(`${prometheusUrl}/api/v1/targets`, {
    signal: AbortSignal.timeout(5000),
  });
  return (await response.json()).data.activeTargets;
}

async function isListening(port: number): Promise<boolean> {
  try {
    (await Deno.connect({ hostname: "127.0.0.1", port })).close();
    return true;
  } catch {
    return false;
  }
}

Deno.test({
  name:
    "deno task dev: the README's curl is followed by its correlation id in a producer and a consumer line, Prometheus scrapes both, Ctrl-C stops all",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dataDir = await Deno.makeTempDir({ prefix: "payments-dev-" });
    const ports = {
      producer: freePort("127.0.0.1"),
      consumer: freePort("127.0.0.1"),
      kafka: freePort("127.0.0.1"),
      prometheus: freePort("127.0.0.1"),
      alertmanager: freePort("127.0.0.1"),
    };
    const jaeger = devJaegerEnv(dataDir);
    // No KAFKA_BROKERS: dev starts its own broker, as on a fresh clone.
    const { KAFKA_BROKERS: _, LOG_FORMAT: _format, ...inherited } = Deno.env.toObject();
    const dev = startDev([], {
      ...inherited,
      ...jaeger.env,
      PRODUCER_PORT: String(ports.producer),
      CONSUMER_PORT: String(ports.consumer),
      KAFKA_PORT: String(ports.kafka),
      KAFKA_DATA_DIR: `${dataDir}/kafka`,
      PROMETHEUS_PORT: String(ports.prometheus),
      PROMETHEUS_DATA_DIR: `${dataDir}/prometheus`,
      ALERTMANAGER_PORT: String(ports.alertmanager),
      ALERTMANAGER_DATA_DIR: `${dataDir}/alertmanager`,
      DEV_LOG_DIR: `${dataDir}/logs`,
    });
    try {
      await dev.waitForLine(/Kafka ready on/, 240_000);
      await dev.waitForLine(new RegExp(`Prometheus +http://localhost:${ports.prometheus}`));
      await dev.waitForLine(/broker log +.*broker\.log/);
      await waitUntilOk(`http://127.0.0.1:${ports.producer}/ready`);
      await waitUntilOk(`http://127.0.0.1:${ports.consumer}/ready`);

      const curl = (await readmeCurl()).replaceAll(
        "localhost:8000",
        `localhost:${ports.producer}`,
      );
      const run = await new Deno.Command("bash", {
        args: ["-c", `${curl} --silent --show-error`],
        stdout: "piped",
        stderr: "piped",
      }).output();
      const answer = new TextDecoder().decode(run.stdout);
      assert.equal(run.code, 0, new TextDecoder().decode(run.stderr));
      const body = JSON.parse(answer);
      assert.equal(body.successful, 1, answer);
      // The lab's request is unaffected by the refusal of extra decimal places, and the
      // 202 echoes the amount and currency as stored.
      assert.deepEqual([body.results[0].amount, body.results[0].currency], [99.99, "USD"], answer);
      const cid = shortCorrelationId(body.correlation_id);

      const consumerLine = await dev.waitForLine(
        new RegExp(`^\\[consumer\\].*Payment TEST-001 APPROVED.*cid=${cid}`),
      );
      const producerLines = dev.lines().filter((line) =>
        line.startsWith("[producer]") && line.includes(`cid=${cid}`)
      );
      assert.ok(producerLines.length >= 1, dev.lines().join("\n"));
      assert.match(producerLines.join("\n"), /Batch \S+ of 1 payments accepted/);
      assert.match(consumerLine, /partition=\d+ offset=\d+/);

      // The banner's curl lists the payment's trace in dev's Jaeger: the producer's spans
      // and both consumer tasks', the trace whose id the log lines carry.
      const banner = await dev.waitForLine(/^ +trace +curl /);
      const traceCurl = banner.replace(/^ +trace +/, "").replace(/ \| jq .*$/, "");
      assert.ok(traceCurl.includes(`localhost:${jaeger.queryPort}/api/traces`), traceCurl);
      let found: { traceID: string; spans: { operationName: string }[] }[] = [];
      const traceDeadline = Date.now() + 60_000;
      while (Date.now() < traceDeadline) {
        const listed = await new Deno.Command("bash", { args: ["-c", traceCurl], stdout: "piped" })
          .output();
        found = JSON.parse(new TextDecoder().decode(listed.stdout)).data ?? [];
        const names = found[0]?.spans.map((s) => s.operationName) ?? [];
        if (
          names.includes("POST /payments/batch") &&
          names.includes("commit payment_requests.by_customer")
        ) {
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
      assert.equal(found.length, 1, JSON.stringify(found).slice(0, 2000));
      assert.deepEqual(
        [...new Set(found[0]!.spans.map((s) => s.operationName))].sort(),
        [
          "POST /payments/batch",
          "admit payments",
          "commit payment_requests",
          "commit payment_requests.by_customer",
          "process payment_requests",
          "process payment_requests.by_customer",
          "send payment_requests",
        ],
      );
      assert.match(consumerLine, new RegExp(` tid=${found[0]!.traceID.slice(0, 8)} `));

      // Prometheus scrapes both services (its first scrape comes within one interval).
      const deadline = Date.now() + 90_000;
      let targets: Target[] = [];
      for (;;) {
        targets = await upJobs(`http://127.0.0.1:${ports.prometheus}`).catch(() => []);
        const up = new Set(targets.filter((t) => t.health === "up").map((t) => t.labels.job));
        if (up.has("payment-producer") && up.has("payment-consumer")) break;
        assert.ok(Date.now() < deadline, `targets: ${JSON.stringify(targets)}`);
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }

      const prometheusApi = async (path: string) =>
        (await (await fetch(`http://127.0.0.1:${ports.prometheus}/api/v1/${path}`)).json()).data;
      const loaded = new Set(
        (await prometheusApi("rules")).groups.map((group: { file: string }) => group.file),
      );
      const ruleFiles = await findRuleFiles(new URL("../prometheus", import.meta.url).pathname);
      assert.ok(ruleFiles.length > 0);
      assert.deepEqual([...loaded].sort(), ruleFiles, "every rule file under prometheus/");
      const flags = await prometheusApi("status/flags");
      assert.match(flags["enable-feature"], /exemplar-storage/);

      assert.ok(
        dev.lines().every((line) => !line.includes("\x1b[")),
        "no colour when stdout is not a terminal",
      );

      const code = await dev.interrupt();
      const lines = dev.lines();
      assert.equal(code, 0, lines.slice(-40).join("\n"));
      assert.ok(
        lines.some((line) => /^\[kafka\] +broker stopped \(exit code 0\); log: /.test(line)),
        lines.slice(-20).join("\n"),
      );
      assert.deepEqual(lines.filter((line) => /^\[\w+\]\s*$/.test(line)), [], "no empty lines");
      // Each service's JSON Lines are also in its dev log file, for the docs' searches.
      for (const service of ["producer", "consumer"]) {
        const log = await Deno.readTextFile(`${dataDir}/logs/${service}.log`);
        const lines = log.split("\n").filter((line) => line.includes(body.correlation_id));
        assert.ok(lines.length >= 1, `${service}.log has the request's lines`);
        assert.equal(JSON.parse(lines[0]!).correlation_id, body.correlation_id);
      }
      for (const [name, port] of Object.entries(ports)) {
        assert.equal(await isListening(port), false, `${name} still listens on ${port}`);
      }
    } finally {
      await dev.interrupt();
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    }
  },
});

Deno.test({
  name:
    "deno task dev --json prints clean JSON Lines with the service as a field, and without prometheus says how to get it",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const brokers = sharedBrokers();
    const topics = uniqueTopics("dev-json");
    await createTopics(brokers, topics, 3);
    // A PATH without prometheus (deno is spawned by absolute path); sh and setsid start
    // dev's Jaeger.
    const bin = await Deno.makeTempDir({ prefix: "payments-dev-bin-" });
    await Deno.symlink(Deno.execPath(), `${bin}/deno`);
    for (const tool of ["sh", "setsid"]) {
      const path = new TextDecoder().decode(
        (await new Deno.Command("which", { args: [tool], stdout: "piped" }).output()).stdout,
      ).trim();
      await Deno.symlink(path, `${bin}/${tool}`);
    }
    const ports = { producer: freePort("127.0.0.1"), consumer: freePort("127.0.0.1") };
    const dev = startDev(["--json"], {
      HOME: Deno.env.get("HOME") ?? "/root",
      PATH: bin,
      KAFKA_BROKERS: brokers.join(","),
      ...topicsEnv(topics),
      CONSUMER_GROUP_ID: `dev-json-${crypto.randomUUID().slice(0, 8)}`,
      PRODUCER_PORT: String(ports.producer),
      CONSUMER_PORT: String(ports.consumer),
      PROMETHEUS_PORT: String(freePort("127.0.0.1")),
      ALERTMANAGER_PORT: String(freePort("127.0.0.1")),
      DEV_LOG_DIR: `${bin}/logs`,
      ...devJaegerEnv(bin).env,
      LAG_MONITOR_ENABLED: "false",
    });
    try {
      await dev.waitForLine(/Prometheus not started: prometheus is not on the PATH/);
      await waitUntilOk(`http://127.0.0.1:${ports.producer}/ready`);
      await waitUntilOk(`http://127.0.0.1:${ports.consumer}/ready`);
      const correlationId = `dev-json-${crypto.randomUUID()}`;
      const response = await fetch(`http://127.0.0.1:${ports.producer}/payments`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-correlation-id": correlationId },
        body: JSON.stringify({
          payment_id: `DEV-${correlationId.slice(-8)}`,
          amount: 12.5,
          merchant_id: "M-1",
          customer_id: "C-1",
        }),
      });
      assert.equal(response.status, 202, await response.text());
      await dev.waitForLine(
        new RegExp(`"service":"consumer".*"correlation_id":"${correlationId}"`),
      );
      await dev.waitForLine(
        new RegExp(
          `"correlation_id":"${correlationId}".*APPROVED|APPROVED.*"correlation_id":"${correlationId}"`,
        ),
      );

      const records = dev.lines().filter((line) => line.length > 0).map((line) => {
        try {
          return JSON.parse(line);
        } catch {
          assert.fail(`not a JSON line: ${line}`);
        }
      });
      for (const record of records) {
        assert.ok(
          ["dev", "producer", "consumer", "jaeger"].includes(record.service),
          JSON.stringify(record),
        );
        assert.equal(typeof record.level, "string");
        assert.equal(typeof record.message, "string");
      }
      const mentioning = (service: string) =>
        records.filter((r) => r.service === service && r.correlation_id === correlationId);
      assert.ok(mentioning("producer").length >= 1, "a producer line has the id");
      assert.ok(mentioning("consumer").length >= 1, "a consumer line has the id");
      const notStarted = records.filter((r) => /^Prometheus not started/.test(r.message));
      assert.equal(notStarted.length, 1);
      assert.match(notStarted[0].message, /apt-get install prometheus/);
      const noAlerts = records.filter((r) => /^Alertmanager not started/.test(r.message));
      assert.equal(noAlerts.length, 1);
      assert.match(noAlerts[0].message, /apt-get install prometheus-alertmanager/);
      assert.equal(await dev.interrupt(), 0, dev.lines().slice(-30).join("\n"));
    } finally {
      await dev.interrupt();
      await Deno.remove(bin, { recursive: true }).catch(() => {});
      await deleteTopics(brokers, [topics.requests, topics.results, topics.dlq]);
    }
  },
});

Deno.test({
  name: "deno task dev on a terminal colours its lines, and a Ctrl-C typed there stops everything",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const brokers = sharedBrokers();
    const topics = uniqueTopics("dev-tty");
    await createTopics(brokers, topics, 1);
    const ports = { producer: freePort("127.0.0.1"), consumer: freePort("127.0.0.1") };
    const { NO_COLOR: _, LOG_FORMAT: _format, ...inherited } = Deno.env.toObject();
    const prometheusDir = await Deno.makeTempDir({ prefix: "payments-dev-tty-" });
    // util-linux `script` runs dev on a pseudo-terminal; what we write to its stdin is
    // typed on that terminal, so "\x03" is a real Ctrl-C. `script` starts the command
    // with `$SHELL -c`; `exec` makes `deno task` the terminal's foreground process, as
    // under a user's interactive shell. Without it, where SHELL is unset or dash (CI),
    // dash waits in between, dies of the Ctrl-C itself, and `script` reports 130.
    let child: Deno.ChildProcess;
    try {
      child = new Deno.Command("script", {
        args: ["-qfec", `exec ${Deno.execPath()} task dev`, "/dev/null"],
        cwd: new URL("..", import.meta.url).pathname,
        clearEnv: true,
        env: {
          ...inherited,
          TERM: "xterm-256color",
          KAFKA_BROKERS: brokers.join(","),
          ...topicsEnv(topics),
          CONSUMER_GROUP_ID: `dev-tty-${crypto.randomUUID().slice(0, 8)}`,
          PRODUCER_PORT: String(ports.producer),
          CONSUMER_PORT: String(ports.consumer),
          PROMETHEUS_PORT: String(freePort("127.0.0.1")),
          PROMETHEUS_DATA_DIR: prometheusDir,
          ALERTMANAGER_PORT: String(freePort("127.0.0.1")),
          ALERTMANAGER_DATA_DIR: `${prometheusDir}/alertmanager`,
          DEV_LOG_DIR: `${prometheusDir}/logs`,
          LAG_MONITOR_ENABLED: "false",
        },
        stdin: "piped",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
    } catch (error) {
      throw new Error("script is not installed; install it with: apt-get install util-linux", {
        cause: error,
      });
    }
    let text = "";
    const reading = (async () => {
      for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) text += chunk;
    })();
    const stderr = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
    const writer = child.stdin.getWriter();
    try {
      await waitUntilOk(`http://127.0.0.1:${ports.producer}/ready`);
      await waitUntilOk(`http://127.0.0.1:${ports.consumer}/ready`);
      const coloured = text.split("\n").filter((line) =>
        line.startsWith("[producer]") && line.includes("\x1b[")
      );
      assert.ok(coloured.length > 0, `coloured producer lines on a terminal:\n${text}`);
    } finally {
      await writer.write(new TextEncoder().encode("\x03"));
      const timer = setTimeout(() => child.kill("SIGKILL"), 90_000);
      await child.status;
      clearTimeout(timer);
      await reading;
      await stderr.cancel();
      await writer.close().catch(() => {});
      await deleteTopics(brokers, [topics.requests, topics.results, topics.dlq]);
      await Deno.remove(prometheusDir, { recursive: true }).catch(() => {});
    }
    assert.equal((await child.status).code, 0, text.slice(-3000));
    assert.match(text, /stopping\.\.\./);
    for (const port of Object.values(ports)) assert.equal(await isListening(port), false);
  },
});
