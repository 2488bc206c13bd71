import assert from "node:assert/strict";
import { getLogger } from "@logtape/logtape";
import { createRegistry } from "@payments/shared/metrics";
import { PROBE_ID_PREFIX, PROBE_MERCHANT_ID } from "@payments/shared/probe";
import { sampleValue } from "@payments/testing/metrics_text";
import { decidedStatus } from "../fake_status_reader.ts";
import { TEST_PROBE_TOKEN, testApp } from "../testing.ts";
import { createProbe, type ProbeDeps } from "./probe.ts";
import { createProbeMetrics, PROBE_FAILURE_REASONS } from "./probe_metrics.ts";

/** A probe against a test app (its requests go through the app as a client's would). */
function probeOf(
  setup: ReturnType<typeof testApp>,
  extra: Partial<ProbeDeps> = {},
) {
  const registry = createRegistry("payment-producer", { defaults: false });
  const metrics = createProbeMetrics(registry);
  const asked: { url: string; headers: Headers }[] = [];
  const fetch = ((input: string, init?: RequestInit) => {
    asked.push({ url: input, headers: new Headers(init?.headers) });
    return Promise.resolve(setup.app.request(input, init));
  }) as typeof globalThis.fetch;
  const probe = createProbe({
    baseUrl: "http://producer.test",
    token: TEST_PROBE_TOKEN,
    intervalMs: 10_000,
    timeoutMs: 2_000,
    metrics,
    logger: getLogger(["test", "probe"]),
    fetch,
    ...extra,
  });
  return { probe, registry, asked };
}

Deno.test("a probe posts a payment with the reserved marks through the API, reads its decision and records the time", async () => {
  const setup = testApp();
  setup.statuses.behaviour = "decided";
  let now = 1000;
  const { probe, registry, asked } = probeOf(setup, {
    now: () => (now += 60),
    newId: () => "11111111-2222-4333-8444-555555555555",
  });
  const outcome = await probe.runOnce();
  const id = `${PROBE_ID_PREFIX}11111111-2222-4333-8444-555555555555`;
  assert.deepEqual(outcome, {
    ok: true,
    paymentId: id,
    seconds: 0.06,
    status: "APPROVED",
    stale: false,
  });
  assert.deepEqual(asked.map((a) => a.url), [
    "http://producer.test/payments",
    `http://producer.test/payments/${id}?wait=2`,
  ]);
  assert.ok(asked.every((a) => a.headers.get("x-correlation-id") === id));
  const [record] = setup.publisher.published;
  const event = JSON.parse(record!.value);
  assert.deepEqual([event.payment_id, event.merchant_id], [id, PROBE_MERCHANT_ID]);
  assert.ok(event.customer_id.startsWith(PROBE_ID_PREFIX), "a customer of its own");
  assert.deepEqual(setup.statuses.reads, [{ paymentId: id, waitMs: 2000 }]);

  const text = await registry.metrics();
  assert.equal(sampleValue(text, "pipeline_probe_duration_seconds_count", {}), 1);
  assert.equal(sampleValue(text, "pipeline_probe_duration_seconds_sum", {}), 0.06);
  for (const reason of PROBE_FAILURE_REASONS) {
    assert.equal(sampleValue(text, "pipeline_probe_failures_total", { reason }), 0, reason);
  }
});

Deno.test("a probe that gets no decision counts a failure with the reason, and no duration", async () => {
  const cases = [
    ["not_decided", (s: ReturnType<typeof testApp>) => s.statuses.behaviour = "deciding"],
    ["status_unavailable", (s: ReturnType<typeof testApp>) => s.statuses.behaviour = "unavailable"],
    [
      "submit_unavailable",
      (s: ReturnType<typeof testApp>) => s.publisher.behaviour = "unavailable",
    ],
  ] as const;
  for (const [reason, arrange] of cases) {
    const setup = testApp();
    arrange(setup);
    const { probe, registry } = probeOf(setup);
    const outcome = await probe.runOnce();
    assert.equal(outcome.ok, false, reason);
    assert.equal(!outcome.ok && outcome.reason, reason);
    const text = await registry.metrics();
    assert.equal(sampleValue(text, "pipeline_probe_failures_total", { reason }), 1, reason);
    assert.equal(sampleValue(text, "pipeline_probe_duration_seconds_count", {}), 0, reason);
  }
});

Deno.test("the probe sends the first API key, and a refused key is submit_rejected", async () => {
  const setup = testApp({ apiKeys: ["k-one", "k-two"] });
  setup.statuses.behaviour = "decided";
  const keyed = probeOf(setup, { apiKey: "k-one" });
  assert.equal((await keyed.probe.runOnce()).ok, true);
  assert.ok(keyed.asked.every((a) => a.headers.get("authorization") === "Bearer k-one"));
  const wrong = probeOf(setup, { apiKey: "revoked" });
  const outcome = await wrong.probe.runOnce();
  assert.equal(!outcome.ok && outcome.reason, "submit_rejected");
});

Deno.test("an API that does not answer is unreachable; an answer that is no decision is unexpected", async () => {
  const setup = testApp();
  const refused = probeOf(setup, {
    fetch: () => Promise.reject(new TypeError("error sending request: connection refused")),
  });
  const outcome = await refused.probe.runOnce();
  assert.equal(!outcome.ok && outcome.reason, "unreachable");
  assert.match(!outcome.ok ? outcome.detail : "", /connection refused/);

  setup.statuses.answers.clear();
  const odd = probeOf(setup, {
    fetch: (input) =>
      Promise.resolve(
        String(input).endsWith("/payments")
          ? new Response("{}", { status: 202, headers: { location: "/payments/x" } })
          : new Response("<html>", { status: 200 }),
      ),
  });
  const strange = await odd.probe.runOnce();
  assert.equal(!strange.ok && strange.reason, "unexpected_answer");
});

Deno.test("started, the probe runs every interval without overlapping, and stop() ends it", async () => {
  const setup = testApp();
  setup.statuses.behaviour = "decided";
  let inFlight = 0;
  let most = 0;
  let runs = 0;
  const { probe, registry } = probeOf(setup, { intervalMs: 100 });
  const slowFetch = ((input: string, init?: RequestInit) => {
    inFlight++;
    most = Math.max(most, inFlight);
    if (String(input).endsWith("/payments")) runs++;
    return new Promise<Response>((resolve) =>
      setTimeout(async () => {
        inFlight--;
        resolve(await setup.app.request(input, init));
      }, 150)
    );
  }) as typeof fetch;
  const slow = createProbe({
    baseUrl: "http://producer.test",
    token: TEST_PROBE_TOKEN,
    intervalMs: 100,
    timeoutMs: 1000,
    metrics: createProbeMetrics(createRegistry("payment-producer", { defaults: false })),
    logger: getLogger(["test", "probe"]),
    fetch: slowFetch,
  });
  probe.start();
  slow.start();
  await new Promise((resolve) => setTimeout(resolve, 1050));
  await Promise.all([probe.stop(), slow.stop()]);
  const done = sampleValue(await registry.metrics(), "pipeline_probe_duration_seconds_count", {})!;
  // Bounds loose below (a busy machine delays timers), strict above: never faster.
  assert.ok(done >= 3 && done <= 10, `at most one probe per 100 ms: ${done}`);
  assert.equal(most, 1, "a slow probe (300 ms) delays the next one, never overlaps it");
  assert.ok(runs >= 1 && runs <= 4, `slow probes back to back, at most 4 in 1.05 s: ${runs}`);
  const before = setup.publisher.published.length;
  await new Promise((resolve) => setTimeout(resolve, 250));
  assert.equal(setup.publisher.published.length, before, "nothing runs after stop()");
});

Deno.test("a decision from a standby is still a decision; the probe notes it stale", async () => {
  const setup = testApp();
  const { probe } = probeOf(setup, { newId: () => "fixed" });
  setup.statuses.answers.set(`${PROBE_ID_PREFIX}fixed`, {
    kind: "decided",
    status: decidedStatus(`${PROBE_ID_PREFIX}fixed`, { stale: true }),
  });
  const outcome = await probe.runOnce();
  assert.equal(outcome.ok && outcome.stale, true);
});
