import assert from "node:assert/strict";
import { BatchPaymentRequestSchema, PaymentRequestSchema } from "@payments/shared/payment";
import type { LoadOptions } from "./options.ts";
import { runLoad } from "./run.ts";

/** An in-memory stand-in for the producer API that validates like the real one. */
function fakeApi(options: { status?: (n: number) => number | undefined } = {}) {
  const accepted: string[] = [];
  let requests = 0;
  const fetchFn: typeof fetch = (input, init) => {
    const url = String(input);
    if (url.endsWith("/health")) return Promise.resolve(new Response("{}"));
    const body = JSON.parse(String(init?.body));
    if (url.endsWith("/payments/batch") && body.payments?.length === 0) {
      return Promise.resolve(new Response("{}", { status: 400 }));
    }
    requests += 1;
    const forced = options.status?.(requests);
    if (forced) return Promise.resolve(new Response("{}", { status: forced }));
    const batch = url.endsWith("/batch");
    const parsed = batch
      ? BatchPaymentRequestSchema.safeParse(body)
      : PaymentRequestSchema.safeParse(body);
    if (!parsed.success) return Promise.resolve(new Response("{}", { status: 400 }));
    const ids = batch
      ? body.payments.map((p: { payment_id: string }) => p.payment_id)
      : [body.payment_id];
    accepted.push(...ids);
    return Promise.resolve(
      new Response(JSON.stringify({ successful: ids.length }), { status: 202 }),
    );
  };
  return { fetchFn, accepted, requests: () => requests };
}

const base: LoadOptions = {
  url: "http://api",
  concurrency: 4,
  count: 1000,
  batchSize: 20,
  invalidRatio: 0,
  duplicateRatio: 0,
  seed: 1,
  runId: "t",
  verify: false,
  retryShed: false,
  brokers: ["localhost:9092"],
  resultsTopic: "payment_results",
  verifyTimeoutMs: 1000,
  requestTimeoutMs: 1000,
  progress: "none",
  quiet: true,
  watchRss: [],
  watchEveryMs: 10_000,
};

Deno.test("a counted run sends exactly --count payments and accounts for each", async () => {
  const api = fakeApi();
  const report = await runLoad({ ...base, count: 1010, invalidRatio: 0.1, duplicateRatio: 0.1 }, {
    fetch: api.fetchFn,
  });
  const p = report.payments;
  assert.equal(p.sent, 1010);
  assert.equal(p.accepted + p.rejected + p.errors, p.sent);
  assert.equal(p.accepted, api.accepted.length);
  assert.equal(p.rejected, p.invalidSent);
  assert.ok(p.invalidSent > 0);
  assert.equal(report.requests.total, 51); // 50 of 20 and one of 10
  assert.equal(p.duplicatesAccepted, api.accepted.length - new Set(api.accepted).size);
  assert.ok(p.duplicatesAccepted > 0);
  assert.equal(report.latencyMs.count, 51);
});

Deno.test("server errors count as errors, not as accepted or rejected", async () => {
  const api = fakeApi({ status: (n) => n % 5 === 0 ? 503 : undefined });
  const report = await runLoad({ ...base, count: 100, batchSize: 10 }, { fetch: api.fetchFn });
  assert.equal(report.payments.errors, 20);
  assert.equal(report.payments.accepted, 80);
  assert.equal(report.requests.byStatus["503"], 2);
});

Deno.test("shed answers (503 overloaded) count as shed, apart from errors, with their own latency", async () => {
  const api = fakeApi();
  let n = 0;
  const fetchFn: typeof fetch = (input, init) => {
    if (String(input).endsWith("/health") || !(++n % 4 === 0)) return api.fetchFn(input, init);
    const body = n % 8 === 0
      ? { type: "urn:payments:problem:overloaded", status: 503 }
      : { type: "urn:payments:problem:kafka-unavailable", status: 503 };
    return Promise.resolve(new Response(JSON.stringify(body), { status: 503 }));
  };
  const report = await runLoad({ ...base, count: 400, batchSize: 10 }, { fetch: fetchFn });
  const p = report.payments;
  assert.equal(p.accepted + p.rejected + p.errors + p.shed, p.sent);
  assert.equal(p.shed, 50);
  assert.equal(p.errors, 50);
  assert.equal(report.requests.byStatus["503 shed"], 5);
  assert.equal(report.requests.byStatus["503"], 5);
  assert.equal(report.shedLatencyMs.count, 5);
  assert.equal(report.acceptedLatencyMs.count, 30);
});

Deno.test("--retry-shed sends a shed request again, same payments, after its Retry-After", async () => {
  const api = fakeApi();
  const seen = new Set<string>();
  const retryAfters: number[] = [];
  let lastShedAt = 0;
  const fetchFn: typeof fetch = (input, init) => {
    const url = String(input);
    if (url.endsWith("/health")) return api.fetchFn(input, init);
    const body = JSON.parse(String(init?.body));
    const first = body.payments?.[0]?.payment_id as string | undefined;
    if (first && !seen.has(first)) {
      seen.add(first);
      lastShedAt = performance.now();
      return Promise.resolve(
        new Response(JSON.stringify({ type: "urn:payments:problem:overloaded", status: 503 }), {
          status: 503,
          headers: { "retry-after": "0.05" },
        }),
      );
    }
    if (first) retryAfters.push(performance.now() - lastShedAt);
    return api.fetchFn(input, init);
  };
  const report = await runLoad(
    { ...base, count: 200, batchSize: 10, concurrency: 1, retryShed: true },
    { fetch: fetchFn },
  );
  const p = report.payments;
  assert.equal(p.accepted, 200, "every payment got in on its second attempt");
  assert.equal(p.shed, 200);
  assert.equal(p.sent, 400, "resends count as sent");
  assert.equal(new Set(api.accepted).size, 200, "the resend carried the same payments");
  assert.equal(report.requests.byStatus["503 shed"], 20);
  assert.ok(retryAfters.every((ms) => ms >= 45), `resent after ${retryAfters} ms`);
});

Deno.test("without --retry-shed a shed request's place goes to a new request", async () => {
  let n = 0;
  const api = fakeApi();
  const fetchFn: typeof fetch = (input, init) => {
    if (String(input).endsWith("/health") || ++n % 2 === 0) return api.fetchFn(input, init);
    return Promise.resolve(
      new Response(JSON.stringify({ type: "urn:payments:problem:overloaded" }), {
        status: 503,
        headers: { "retry-after": "5" },
      }),
    );
  };
  const started = performance.now();
  const report = await runLoad({ ...base, count: 100, batchSize: 10, concurrency: 1 }, {
    fetch: fetchFn,
  });
  assert.ok(performance.now() - started < 5000, "nobody waited for Retry-After");
  assert.equal(report.payments.sent, 100);
  assert.equal(report.payments.shed + report.payments.accepted, 100);
});

Deno.test("a 401 during the run stops it with an error naming the API key", async () => {
  const api = fakeApi({ status: (n) => n > 3 ? 401 : undefined });
  await assert.rejects(
    runLoad({ ...base, count: 10_000, batchSize: 1, concurrency: 1 }, { fetch: api.fetchFn }),
    /rejected the API key during the run \(401\)/,
  );
  assert.ok(api.requests() < 10);
});

Deno.test("an aborted run reports what was done so far and says it was interrupted", async () => {
  const api = fakeApi();
  const abort = new AbortController();
  let n = 0;
  const fetchFn: typeof fetch = (input, init) => {
    if (++n === 20) abort.abort();
    return api.fetchFn(input, init);
  };
  const report = await runLoad({ ...base, count: 100_000, batchSize: 1, concurrency: 1 }, {
    fetch: fetchFn,
    signal: abort.signal,
  });
  assert.equal(report.run.interrupted, true);
  assert.ok(report.payments.sent < 100, `${report.payments.sent} sent`);
  assert.equal(report.payments.accepted, report.payments.sent);
});

Deno.test("an open-model run paces requests by the offered rate", async () => {
  const api = fakeApi();
  const report = await runLoad({ ...base, count: 40, batchSize: 2, rate: 400 }, {
    fetch: api.fetchFn,
  });
  // 20 requests at 200 requests/s: the schedule spans 100 ms, whatever the machine.
  assert.equal(report.run.offeredRate, 400);
  assert.equal(report.payments.accepted, 40);
  assert.ok(report.run.elapsedMs >= 90, `${report.run.elapsedMs} ms`);
});
