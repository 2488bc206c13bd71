import assert from "node:assert/strict";
import { checkTarget, postPayments, TargetError } from "./client.ts";

type Handler = (url: string, init?: RequestInit) => Response | Promise<Response>;
const fakeFetch = (handler: Handler): typeof fetch => (input, init) =>
  Promise.resolve(handler(String(input), init));

const target = { url: "http://api", timeoutMs: 1000 };

Deno.test("one payment goes to /payments, several to /payments/batch, with key and correlation id", async () => {
  const calls: Array<{ url: string; body: unknown; headers: Record<string, string> }> = [];
  const fetchFn = fakeFetch((url, init) => {
    calls.push({
      url,
      body: JSON.parse(String(init?.body)),
      headers: init?.headers as Record<string, string>,
    });
    return new Response(JSON.stringify({ successful: 1 }), { status: 202 });
  });
  const withKey = { ...target, apiKey: "k" };
  const one = await postPayments(fetchFn, withKey, [{ payment_id: "a" }], "c-1");
  await postPayments(fetchFn, withKey, [{ payment_id: "a" }, { payment_id: "b" }]);
  assert.equal(one.kind, "response");
  assert.equal(calls[0]!.url, "http://api/payments");
  assert.deepEqual(calls[0]!.body, { payment_id: "a" });
  assert.equal(calls[0]!.headers.authorization, "Bearer k");
  assert.equal(calls[0]!.headers["x-correlation-id"], "c-1");
  assert.equal(calls[1]!.url, "http://api/payments/batch");
  assert.deepEqual(calls[1]!.body, { payments: [{ payment_id: "a" }, { payment_id: "b" }] });
});

Deno.test("network failures and timeouts come back as errors, never as throws", async () => {
  const refused = await postPayments(
    () => Promise.reject(new TypeError("connection refused")),
    target,
    [{}],
  );
  assert.equal(refused.kind, "error");
  assert.equal(refused.kind === "error" && refused.error, "network");
  const timeout = await postPayments(
    () => Promise.reject(new DOMException("timed out", "TimeoutError")),
    target,
    [{}],
  );
  assert.equal(timeout.kind === "error" && timeout.error, "timeout");
});

Deno.test("an unreachable producer is reported with its URL and how to start it", async () => {
  await assert.rejects(
    checkTarget(() => Promise.reject(new TypeError("Connection refused (os error 111)")), target),
    (error: unknown) => {
      assert.ok(error instanceof TargetError);
      assert.match(error.message, /Cannot reach the producer at http:\/\/api: Connection refused/);
      assert.match(error.message, /deno task producer/);
      return true;
    },
  );
});

Deno.test("a wrong or missing API key is reported before any payment is sent", async () => {
  const fetchFn = fakeFetch((url) =>
    url.endsWith("/health") ? new Response("{}") : new Response("{}", { status: 401 })
  );
  await assert.rejects(
    checkTarget(fetchFn, { ...target, apiKey: "bad" }),
    /rejected the API key \(401\)/,
  );
  await assert.rejects(checkTarget(fetchFn, target), /requires an API key \(401\): pass --api-key/);
});

Deno.test("the preflight accepts a 400 for the empty batch and refuses a 404", async () => {
  const ok = fakeFetch((url) =>
    url.endsWith("/health") ? new Response("{}") : new Response("{}", { status: 400 })
  );
  await checkTarget(ok, target);
  const notOurs = fakeFetch((url) =>
    url.endsWith("/health") ? new Response("{}") : new Response("", { status: 404 })
  );
  await assert.rejects(checkTarget(notOurs, target), /does not look like the payments API/);
});
