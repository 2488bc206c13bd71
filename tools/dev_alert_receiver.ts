/**
 * The receiver the dev Alertmanager sends its notifications to: a webhook on loopback
 * inside `deno task dev` that turns each alert that starts firing or resolves into one
 * readable line of the dev output (name, severity, summary, runbook link).
 *
 * @module
 */

/** One alert of an Alertmanager webhook notification (payload version 4). */
export interface WebhookAlert {
  status: "firing" | "resolved";
  labels: Record<string, string>;
  annotations: Record<string, string>;
  fingerprint?: string;
  startsAt?: string;
  endsAt?: string;
}

/** An Alertmanager webhook notification: one group of alerts, for one receiver. */
export interface WebhookNotification {
  receiver: string;
  status: string;
  alerts: WebhookAlert[];
}

/**
 * The line of one alert: what happened, the alert, its severity and the receiver the
 * project's routing chose (`page` or `ticket`), its summary and where its runbook is.
 *
 * @example
 * ```ts
 * formatAlert(alert, "ticket");
 * // "FIRING DeadLettersArriving (warning, to ticket): Messages are being dead-lettered
 * //  (reason invalid_json); runbook docs/runbook.md#deadlettersarriving"
 * ```
 */
export function formatAlert(alert: WebhookAlert, receiver: string): string {
  const name = alert.labels.alertname ?? "unnamed alert";
  const severity = alert.labels.severity ?? "no severity";
  const summary = alert.annotations.summary ?? alert.annotations.description ?? "no summary";
  const runbook = alert.annotations.runbook_url;
  return `${alert.status === "resolved" ? "RESOLVED" : "FIRING"} ${name} ` +
    `(${severity}, to ${receiver}): ${summary.replace(/\s+/g, " ").trim()}` +
    (runbook ? `; runbook ${runbook}` : "");
}

/**
 * The dev output's line of an alert: {@linkcode formatAlert}'s text, or in JSON mode a
 * JSON Lines record with the same message and the alert's fields, for `jq`.
 */
export function alertLine(alert: WebhookAlert, receiver: string, json: boolean): string {
  const message = formatAlert(alert, receiver);
  if (!json) return message;
  return JSON.stringify({
    timestamp: new Date().toISOString(),
    level: alert.status === "resolved" ? "info" : "warning",
    service: "alerts",
    logger: "alertmanager",
    message,
    status: alert.status,
    alertname: alert.labels.alertname,
    severity: alert.labels.severity,
    receiver,
    summary: alert.annotations.summary,
    runbook_url: alert.annotations.runbook_url,
  });
}

/**
 * The lines of a notification that say something new. Alertmanager sends a group's
 * alerts again whenever the group changes or is repeated; an alert's line is printed
 * when it starts firing and when it resolves, not at each resend.
 */
export function createAlertLines(): (notification: WebhookNotification) => WebhookAlert[] {
  const lastStatus = new Map<string, string>();
  return (notification) =>
    notification.alerts.filter((alert) => {
      const key = alert.fingerprint ?? JSON.stringify(alert.labels);
      if (lastStatus.get(key) === alert.status) return false;
      lastStatus.set(key, alert.status);
      return true;
    });
}

/** A running receiver. */
export interface AlertReceiver extends AsyncDisposable {
  /** The webhook URL of receiver `name` (its path names the project's receiver). */
  url(name: string): string;
}

/**
 * Serves the webhook on a free loopback port; `onAlert` gets each new alert with the
 * receiver it was routed to. Anything that is not a notification is answered 400.
 */
export function startAlertReceiver(
  onAlert: (alert: WebhookAlert, receiver: string) => void,
): AlertReceiver {
  const fresh = createAlertLines();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async (request) => {
      if (request.method !== "POST") return new Response(null, { status: 405 });
      let notification: WebhookNotification;
      try {
        notification = await request.json();
        if (!Array.isArray(notification.alerts)) throw new Error("no alerts");
      } catch {
        return new Response("not an Alertmanager notification\n", { status: 400 });
      }
      const receiver = decodeURIComponent(new URL(request.url).pathname.split("/").pop() ?? "");
      for (const alert of fresh(notification)) onAlert(alert, receiver || notification.receiver);
      return new Response(null, { status: 204 });
    },
  );
  const { port } = server.addr as Deno.NetAddr;
  return {
    url: (name) => `http://127.0.0.1:${port}/alerts/${encodeURIComponent(name)}`,
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}
