import assert from "node:assert/strict";
import fc from "fast-check";
import { PROBLEM_CONTENT_TYPE } from "@payments/shared/problem";
import { paymentRequest } from "@payments/testing/payments";
import { testApp } from "./testing.ts";

const methods = fc.constantFrom("GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD");
const paths = fc.oneof(
  fc.constantFrom(
    "/payments",
    "/payments/single",
    "/payments/batch",
    "/health",
    "/ready",
    "/stats",
    "/metrics",
    "/openapi.json",
    "/docs",
    "/payments/batch/",
    "//payments",
    "/payments/P-1",
    "/payments/P-1?wait=0.5",
    "/payments/P-1?wait=999",
    "/payments/%00",
  ),
  fc.webPath(),
);
const jsonish = fc.oneof(
  fc.json(),
  fc.string(),
  fc.jsonValue().map((value) => JSON.stringify({ payments: [value] })),
  fc.record({ payments: fc.array(fc.anything(), { maxLength: 5 }) }).map((v) => {
    try {
      return JSON.stringify(v);
    } catch {
      return "{}";
    }
  }),
  fc.constant(JSON.stringify({ payments: [paymentRequest("P-1")] })),
);
const headerValue = fc.string({ maxLength: 200 }).map((value) =>
  // Header values a client can actually send: no CR, LF or NUL.
  value.replace(/[\r\n\0]/g, "")
);
const headers = fc.record({
  "content-type": fc.option(
    fc.oneof(
      fc.constantFrom("application/json", "text/plain", "application/problem+json"),
      headerValue,
    ),
    { nil: undefined },
  ),
  "x-correlation-id": fc.option(headerValue, { nil: undefined }),
  traceparent: fc.option(headerValue, { nil: undefined }),
  authorization: fc.option(headerValue, { nil: undefined }),
}, { requiredKeys: [] });

Deno.test("no method, path, header or body a client can send produces a 500", async () => {
  const { app } = testApp({ maxBodyBytes: 4096 });
  await fc.assert(
    fc.asyncProperty(methods, paths, headers, jsonish, async (method, path, rawHeaders, body) => {
      const init: RequestInit = { method, headers: new Headers() };
      for (const [name, value] of Object.entries(rawHeaders)) {
        if (value === undefined) continue;
        try {
          (init.headers as Headers).set(name, value);
        } catch {
          // Not a value a client could put on the wire.
        }
      }
      if (method !== "GET" && method !== "HEAD") init.body = body;
      let url: URL;
      try {
        url = new URL(path, "http://localhost");
      } catch {
        return;
      }
      const response = await app.request(url.pathname + url.search, init);
      const text = await response.text();
      assert.ok(response.status < 500, `${method} ${path} -> ${response.status}: ${text}`);
      if (response.status >= 400 && method !== "HEAD") {
        assert.equal(response.headers.get("content-type"), PROBLEM_CONTENT_TYPE);
      }
      assert.ok(response.headers.get("x-correlation-id"));
    }),
    { numRuns: 400 },
  );
});
