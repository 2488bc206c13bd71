import assert from "node:assert/strict";
import { parse } from "yaml";
import { runTool } from "@payments/testing/tool";
import {
  alertLine,
  createAlertLines,
  formatAlert,
  startAlertReceiver,
  type WebhookAlert,
} from "./dev_alert_receiver.ts";
import { alertmanagerArgs, devAlertmanagerConfig } from "./dev_alertmanager.ts";

const PROMETHEUS_DIR = new URL("../prometheus", import.meta.url).pathname;

const deadLetters = (status: "firing" | "resolved"): WebhookAlert => ({
  status,
  fingerprint: "f1",
  labels: { alertname: "DeadLettersArriving", severity: "warning", reason: "invalid_json" },
  annotations: {
    summary: "Messages are being dead-lettered (reason invalid_json)",
    description: "1 message went to the dead-letter topic",
    runbook_url: "docs/runbook.md#deadlettersarriving",
  },
});

Deno.test("an alert is one line: firing or resolved, name, severity and receiver, summary, runbook", () => {
  assert.equal(
    formatAlert(deadLetters("firing"), "ticket"),
    "FIRING DeadLettersArriving (warning, to ticket): Messages are being dead-lettered " +
      "(reason invalid_json); runbook docs/runbook.md#deadlettersarriving",
  );
  assert.match(formatAlert(deadLetters("resolved"), "ticket"), /^RESOLVED DeadLettersArriving /);
  const bare: WebhookAlert = { status: "firing", labels: {}, annotations: {} };
  assert.equal(
    formatAlert(bare, "page"),
    "FIRING unnamed alert (no severity, to page): no summary",
  );
  const multiline = { ...deadLetters("firing") };
  multiline.annotations = { summary: "two\nlines  here" };
  assert.match(formatAlert(multiline, "ticket"), /: two lines here$/);
});

Deno.test("in JSON mode the line is a JSON Lines record with the alert's fields", () => {
  const record = JSON.parse(alertLine(deadLetters("firing"), "ticket", true));
  assert.equal(record.service, "alerts");
  assert.equal(record.level, "warning");
  assert.equal(record.alertname, "DeadLettersArriving");
  assert.equal(record.runbook_url, "docs/runbook.md#deadlettersarriving");
  assert.match(record.message, /^FIRING DeadLettersArriving/);
});

Deno.test("an alert's line is printed when it fires and when it resolves, not at each resend", () => {
  const fresh = createAlertLines();
  const notify = (...alerts: WebhookAlert[]) =>
    fresh({ receiver: "ticket", status: "firing", alerts }).map((a) =>
      `${a.status} ${a.fingerprint}`
    );
  const other = { ...deadLetters("firing"), fingerprint: "f2" };
  assert.deepEqual(notify(deadLetters("firing")), ["firing f1"]);
  assert.deepEqual(notify(deadLetters("firing"), other), ["firing f2"]);
  assert.deepEqual(notify(deadLetters("resolved"), other), ["resolved f1"]);
  assert.deepEqual(notify(deadLetters("firing")), ["firing f1"], "fires again after resolving");
});

Deno.test("the receiver takes Alertmanager's webhook over HTTP and refuses anything else", async () => {
  const seen: string[] = [];
  await using receiver = startAlertReceiver((alert, name) => seen.push(formatAlert(alert, name)));
  const post = (body: string) =>
    fetch(receiver.url("page"), {
      method: "POST",
      body,
      headers: { "content-type": "application/json" },
    });
  const ok = await post(
    JSON.stringify({ receiver: "page", status: "firing", alerts: [deadLetters("firing")] }),
  );
  assert.equal(ok.status, 204);
  await ok.body?.cancel();
  const junk = await post("{nope");
  assert.equal(junk.status, 400);
  await junk.body?.cancel();
  assert.deepEqual(seen, [formatAlert(deadLetters("firing"), "page")]);
});

Deno.test("the dev Alertmanager keeps the project's routing and sends every receiver to dev's webhook", async () => {
  const project = await Deno.readTextFile(`${PROMETHEUS_DIR}/alertmanager.yml`);
  const original = parse(project);
  const config = parse(
    devAlertmanagerConfig(project, (name) => `http://127.0.0.1:1/alerts/${name}`),
  );
  assert.deepEqual(config.route, original.route);
  assert.deepEqual(config.inhibit_rules, original.inhibit_rules);
  assert.deepEqual(
    config.receivers,
    original.receivers.map(({ name }: { name: string }) => ({
      name,
      webhook_configs: [{ url: `http://127.0.0.1:1/alerts/${name}`, send_resolved: true }],
    })),
  );
  assert.ok(
    alertmanagerArgs("c.yml", "/d", 19093).includes("--web.listen-address=127.0.0.1:19093"),
  );
});

Deno.test("amtool accepts the generated dev Alertmanager config", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const project = await Deno.readTextFile(`${PROMETHEUS_DIR}/alertmanager.yml`);
    await Deno.writeTextFile(
      `${dir}/alertmanager.yml`,
      devAlertmanagerConfig(project, (name) => `http://127.0.0.1:9/alerts/${name}`),
    );
    const check = await runTool("amtool", ["check-config", "alertmanager.yml"], { cwd: dir });
    assert.equal(check.code, 0, check.output);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
