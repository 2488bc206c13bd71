import assert from "node:assert/strict";
import { startAlertmanager } from "@payments/testing/alertmanager";
import { startPrometheus } from "@payments/testing/prometheus";
import { startAll } from "@payments/testing/start_all";
import { waitFor } from "@payments/testing/wait";
import { repoPath } from "./sources.ts";
import { parseYaml } from "@payments/testing/tool";

interface AlertmanagerConfig {
  route: Route;
  receivers: { name: string; webhook_configs?: { url: string }[] }[];
  [key: string]: unknown;
}
interface Route {
  group_wait?: string;
  group_interval?: string;
  routes?: Route[];
  [key: string]: unknown;
}

/** What a webhook receiver got: the path it was posted to and Alertmanager's payload. */
interface Notification {
  path: string;
  receiver: string;
  status: string;
  alerts: { labels: Record<string, string>; status: string }[];
}

/**
 * The alerts the test fires, named and labelled as the real rules do, each as a constant
 * `vector(1)` so it fires at the first evaluation: routing and inhibition are what is
 * under test here (the rules themselves have promtool tests).
 */
const TEST_ALERTS: Record<string, Record<string, string>> = {
  // page receiver
  ProducerDown: { severity: "critical", job: "payment-producer", instance: "producer:8000" },
  DecisionLatencyFastBurn: { severity: "page", slo: "decision-latency" },
  // held back by ProducerDown
  APIAvailabilityFastBurn: { severity: "page", slo: "api-availability" },
  // held back by the decision-latency page
  DecisionLatencySlowBurn: { severity: "ticket", slo: "decision-latency" },
  // ticket receiver
  TransientDeadLettersSlowBurn: { severity: "ticket", slo: "transient-dead-letters" },
  HighConsumerLag: { severity: "warning", group: "payment-processor", topic: "payment_requests" },
};
const DELIVERED = {
  page: ["DecisionLatencyFastBurn", "ProducerDown"],
  ticket: ["HighConsumerLag", "TransientDeadLettersSlowBurn"],
};
const INHIBITED = ["APIAvailabilityFastBurn", "DecisionLatencySlowBurn"];

/** The real alertmanager.yml with webhooks to `hookUrl/<receiver>` and 1 s grouping. */
async function alertmanagerConfig(hookUrl: string): Promise<AlertmanagerConfig> {
  const real = parseYaml(
    await Deno.readTextFile(repoPath("prometheus/alertmanager.yml")),
  ) as AlertmanagerConfig;
  const quick = (route: Route): Route => ({
    ...route,
    ...(route.group_wait ? { group_wait: "1s" } : {}),
    ...(route.group_interval ? { group_interval: "1s" } : {}),
    ...(route.routes ? { routes: route.routes.map(quick) } : {}),
  });
  const receivers = real.receivers.map((receiver) => {
    assert.ok(receiver.webhook_configs?.length, `receiver ${receiver.name} has a webhook`);
    return {
      ...receiver,
      webhook_configs: receiver.webhook_configs!.map((hook) => ({
        ...hook,
        url: `${hookUrl}/${receiver.name}`,
      })),
    };
  });
  return { ...real, route: quick(real.route), receivers };
}

/** The real prometheus.yml, 1 s intervals, the test's rules, alerts to `alertmanager`. */
async function prometheusConfig(alertmanager: string) {
  const real = parseYaml(await Deno.readTextFile(repoPath("prometheus/prometheus.yml"))) as {
    global: Record<string, unknown>;
    alerting: { alertmanagers: { static_configs: { targets: string[] }[] }[] };
  };
  assert.equal(real.alerting.alertmanagers.length, 1, "prometheus.yml names one Alertmanager");
  return {
    global: { ...real.global, scrape_interval: "1s", evaluation_interval: "1s" },
    // Relative to the config file, which startPrometheus writes beside the rules.
    rule_files: ["delivery_rules.yml"],
    alerting: {
      alertmanagers: [{
        ...real.alerting.alertmanagers[0],
        static_configs: [{ targets: [alertmanager] }],
      }],
    },
    scrape_configs: [],
  };
}

function startWebhookReceiver() {
  const notifications: Notification[] = [];
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async (request) => {
      const body = await request.json();
      notifications.push({ path: new URL(request.url).pathname, ...body });
      return new Response(null, { status: 200 });
    },
  );
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    notifications,
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}

Deno.test("a real Prometheus and Alertmanager deliver pages and tickets to their webhooks and hold back the inhibited ones", async () => {
  await using hooks = startWebhookReceiver();
  const rules = {
    groups: [{
      name: "delivery-test",
      rules: Object.entries(TEST_ALERTS).map(([alert, labels]) => ({
        alert,
        expr: "vector(1)",
        labels,
        annotations: { summary: `${alert} (delivery test)` },
      })),
    }],
  };
  const alertmanager = await startAlertmanager(await alertmanagerConfig(hooks.url));
  const [prometheus] = await startAll(
    [
      startPrometheus(await prometheusConfig(`127.0.0.1:${alertmanager.port}`), {
        files: { "delivery_rules.yml": JSON.stringify(rules) },
        // The first evaluation can run before the Alertmanager is discovered, which drops
        // its notification; resend every second instead of every minute.
        args: ["--rules.alert.resend-delay=1s"],
      }),
    ] as const,
  ).catch(async (error) => {
    await alertmanager.stop();
    throw error;
  });
  try {
    const names = (receiver: string) =>
      new Set(
        hooks.notifications.filter((n) => n.path === `/${receiver}`)
          .flatMap((n) => n.alerts.map((a) => a.labels.alertname!)),
      );
    const inhibited = async () => {
      const alerts = await alertmanager.alerts();
      return INHIBITED.every((name) =>
        alerts.some((a) => a.labels.alertname === name && a.status.inhibitedBy.length > 0)
      );
    };
    await waitFor(
      {
        "the page webhook got ProducerDown and DecisionLatencyFastBurn": () =>
          Promise.resolve(DELIVERED.page.every((name) => names("page").has(name))),
        "the ticket webhook got HighConsumerLag and TransientDeadLettersSlowBurn": () =>
          Promise.resolve(DELIVERED.ticket.every((name) => names("ticket").has(name))),
        "Alertmanager holds APIAvailabilityFastBurn and DecisionLatencySlowBurn as inhibited":
          inhibited,
      },
      60_000,
      () =>
        `--- notifications ---\n${JSON.stringify(hooks.notifications)}\n` +
        `--- alertmanager ---\n${alertmanager.tail()}\n--- prometheus ---\n${prometheus.tail()}`,
    );
    assert.deepEqual([...names("page")].sort(), DELIVERED.page);
    assert.deepEqual([...names("ticket")].sort(), DELIVERED.ticket);
    for (const n of hooks.notifications) {
      assert.equal(n.receiver, n.path.slice(1), "the receiver named in the payload is the route's");
      assert.equal(n.status, "firing");
    }
  } finally {
    await prometheus.stop();
    await alertmanager.stop();
  }
});
