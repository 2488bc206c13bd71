/**
 * A real Prometheus server for a test (the Debian `prometheus` binary): scrapes given
 * targets every second, evaluates rule files every second, answers the HTTP API.
 *
 * @module
 */
import { join } from "node:path";
import { stringify } from "yaml";
import { freePort } from "@payments/kafka/harness";

/** A running Prometheus; dispose to stop it and remove its data. */
export interface TestPrometheus extends AsyncDisposable {
  readonly url: string;
  /** Instant query; the `result` vector. */
  query(expr: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]>;
  /** Current alerts (`/api/v1/alerts`). */
  alerts(): Promise<{ labels: Record<string, string>; state: string }[]>;
}

/** Starts Prometheus scraping `targets` (host:port, path /metrics) with `rules` (a rules file object). */
export async function startPrometheus(
  targets: string[],
  rules: unknown,
): Promise<TestPrometheus> {
  const dir = await Deno.makeTempDir({ prefix: "payments-prometheus-" });
  const port = freePort();
  await Deno.writeTextFile(join(dir, "rules.yml"), stringify(rules));
  await Deno.writeTextFile(
    join(dir, "prometheus.yml"),
    stringify({
      global: { scrape_interval: "1s", evaluation_interval: "1s", scrape_timeout: "900ms" },
      rule_files: [join(dir, "rules.yml")],
      scrape_configs: [{ job_name: "payment-consumer", static_configs: [{ targets }] }],
    }),
  );
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command("prometheus", {
      args: [
        `--config.file=${join(dir, "prometheus.yml")}`,
        `--storage.tsdb.path=${join(dir, "data")}`,
        `--web.listen-address=127.0.0.1:${port}`,
        "--log.level=warn",
      ],
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
  } catch (error) {
    await Deno.remove(dir, { recursive: true });
    throw new Error("prometheus is missing: install it with `apt-get install prometheus`", {
      cause: error,
    });
  }
  const stderr = new Response(child.stderr).text();
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    try {
      child.kill("SIGTERM");
    } catch { /* gone */ }
    await child.status;
    await stderr;
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  };
  const api = async (path: string) => {
    const response = await fetch(`${url}${path}`, { signal: AbortSignal.timeout(5000) });
    const body = await response.json();
    if (body.status !== "success") throw new Error(`Prometheus ${path}: ${JSON.stringify(body)}`);
    return body.data;
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      const response = await fetch(`${url}/-/ready`);
      await response.body?.cancel();
      if (response.ok) break;
    } catch { /* starting */ }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`Prometheus did not become ready: ${await stderr}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    url,
    query: async (expr) => (await api(`/api/v1/query?query=${encodeURIComponent(expr)}`)).result,
    alerts: async () => (await api("/api/v1/alerts")).alerts,
    [Symbol.asyncDispose]: stop,
  };
}
