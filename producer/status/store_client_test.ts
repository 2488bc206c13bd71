import assert from "node:assert/strict";
import { createStoreClient } from "./store_client.ts";

const CLAIM = {
  payment_id: "P-1",
  customer_id: "C-1",
  created_at: "2026-12-01T10:00:00.000Z",
  claimed_at: "2026-12-01T10:00:00.050Z",
  request_partition: 2,
  request_offset: 41,
  correlation_id: "corr-1",
  duplicates: 3,
};
const DECISION = {
  payment_id: "P-1",
  outcome: "DECLINED",
  reason: "merchant_blocked",
  customer_id: "C-1",
  created_at: "2026-12-01T10:00:00.000Z",
  decided_at: "2026-12-01T10:00:00.120Z",
  request_partition: 2,
  request_offset: 41,
  correlation_id: "corr-1",
};

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": status < 300 ? "application/json" : "application/problem+json" },
  });

/** A fetch answering `answer`, recording the URLs asked. */
function fakeFetch(answer: (url: string) => Response | Promise<Response>) {
  const urls: string[] = [];
  const fetch = ((input: string | URL | Request) => {
    const url = String(input);
    urls.push(url);
    return Promise.resolve(answer(url));
  }) as typeof globalThis.fetch;
  return { fetch, urls };
}

Deno.test("a claim and a decision are read from the task's store, with the wait passed on", async () => {
  const { fetch, urls } = fakeFetch((url) =>
    url.includes("/stores/payments/")
      ? json(200, { replica: "active", stale: false, claim: CLAIM })
      : json(200, { replica: "standby", stale: true, decision: DECISION })
  );
  const client = createStoreClient({ fetch });
  assert.deepEqual(await client.claim("http://c1:8001", 2, "P-1", { waitMs: 1500.7 }), {
    kind: "found",
    row: CLAIM,
    stale: false,
  });
  assert.deepEqual(await client.decision("http://c2:8001", 5, "P-1", { waitMs: 0 }), {
    kind: "found",
    row: DECISION,
    stale: true,
  });
  assert.deepEqual(urls, [
    "http://c1:8001/stores/payments/2/P-1?wait=1500",
    "http://c2:8001/stores/customers/5/P-1",
  ]);
});

Deno.test("a store's 404 payment-unknown is absent, stale when a standby says it; 421 is elsewhere", async () => {
  const answers = [
    json(404, { type: "urn:payments:problem:payment-unknown", stale: false }),
    json(404, { type: "urn:payments:problem:payment-unknown", stale: true }),
    json(421, { type: "urn:payments:problem:store-elsewhere" }),
  ];
  const { fetch } = fakeFetch(() => answers.shift()!);
  const client = createStoreClient({ fetch });
  const read = () => client.claim("http://c1:8001", 0, "P-1", { waitMs: 0 });
  assert.deepEqual(await read(), { kind: "absent", stale: false });
  assert.deepEqual(await read(), { kind: "absent", stale: true });
  assert.deepEqual(await read(), { kind: "elsewhere" });
});

Deno.test("anything but a consumer's answer is unreachable, saying what came back", async () => {
  const cases: [string, () => Response | Promise<Response>, RegExp][] = [
    ["another 404", () => json(404, { type: "urn:payments:problem:not-found" }), /answered 404/],
    ["a 503", () => json(503, { type: "x" }), /answered 503/],
    ["HTML", () => new Response("<html>bad gateway</html>", { status: 502 }), /502 without JSON/],
    ["a 200 of another shape", () => json(200, { claim: { payment_id: 1 } }), /unexpected body/],
    ["a refused connection", () => Promise.reject(new TypeError("connection refused")), /refused/],
  ];
  for (const [what, answer, reason] of cases) {
    const { fetch } = fakeFetch(answer);
    const read = await createStoreClient({ fetch }).decision("http://c1:8001", 1, "P-1", {
      waitMs: 0,
    });
    assert.equal(read.kind, "unreachable", what);
    assert.match((read as { reason: string }).reason, reason, what);
    assert.match(
      (read as { reason: string }).reason,
      /http:\/\/c1:8001\/stores\/customers\/1\/P-1/,
    );
  }
});

Deno.test("a store that does not answer within its wait and the grace is unreachable", async () => {
  const fetch = ((_input: string, init?: RequestInit) =>
    new Promise((_, reject) => {
      init?.signal?.addEventListener("abort", () => reject(init.signal!.reason));
    })) as typeof globalThis.fetch;
  const started = performance.now();
  const read = await createStoreClient({ fetch, graceMs: 30 }).claim("http://c1:8001", 0, "P-1", {
    waitMs: 20,
  });
  assert.ok(performance.now() - started >= 45, "it waited for the wait and the grace");
  assert.equal(read.kind, "unreachable");
  assert.match((read as { reason: string }).reason, /no answer within 50 ms/);
});
