/**
 * Schemathesis-style properties of `GET /payments/{payment_id}`: requests generated from
 * what the document says of the operation (any path segment, any `wait`, with and
 * without a key, whatever the stores answer), each answer checked against the document
 * (a documented status, the documented body) and against an oracle of the validation.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { PaymentIdSchema } from "@payments/shared/payment";
import { PROBLEM_CONTENT_TYPE } from "@payments/shared/problem";
import { paymentRequest } from "@payments/testing/payments";
import type { FakeStatusBehaviour } from "./fake_status_reader.ts";
import { PaymentStatusSchema } from "./schemas.ts";
import { postJson, testApp } from "./testing.ts";

const KEY = "prop-key";
const PATH = "/payments/{payment_id}";

/** The statuses and the 200 schema the document gives the operation. */
async function documented(secured: boolean) {
  const doc = await (await testApp({ apiKeys: secured ? [KEY] : [] }).app.request("/openapi.json"))
    .json();
  const operation = doc.paths[PATH].get;
  return {
    statuses: new Set(Object.keys(operation.responses).map(Number)),
    ref: operation.responses[200].content["application/json"].schema.$ref as string,
    params: operation.parameters.map((p: { name: string; in: string }) => `${p.in}:${p.name}`),
  };
}

const validIds = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/);
const anyIds = fc.oneof(
  validIds,
  fc.string({ minLength: 1, maxLength: 80, unit: "binary" }),
  fc.constantFrom("x".repeat(65), "-a", "a b", "a/b", "batch", "single", "é"),
).filter((id) => id !== "." && id !== "..");
const waits = fc.option(
  fc.oneof(
    fc.double({ min: -5, max: 40, noNaN: true }).map(String),
    fc.integer({ min: 0, max: 30 }).map(String),
    fc.string({ maxLength: 6 }),
    fc.constantFrom("", "30", "30.0001", "1e1", "Infinity", "NaN", "0x1f"),
  ),
  { nil: undefined },
);
const worlds = fc.constantFrom<FakeStatusBehaviour>(
  "decided",
  "unknown",
  "deciding",
  "unavailable",
);
const auth = fc.constantFrom<"none" | "right" | "wrong">("none", "right", "wrong");

/** What the query schema accepts: a number from 0 to 30 (`?wait=` empty is 0). */
function validWait(raw: string | undefined): boolean {
  if (raw === undefined) return true;
  const n = Number(raw);
  return Number.isFinite(n) && n >= 0 && n <= 30;
}

for (const secured of [false, true]) {
  Deno.test(`every answer of GET ${PATH} is documented and agrees with the validation (API keys ${secured ? "on" : "off"})`, async () => {
    const doc = await documented(secured);
    assert.equal(doc.ref, "#/components/schemas/PaymentStatus");
    assert.deepEqual(doc.params.sort(), ["path:payment_id", "query:wait"]);
    await fc.assert(
      fc.asyncProperty(anyIds, waits, worlds, auth, async (id, wait, world, key) => {
        const { app, statuses, publisher } = testApp({ apiKeys: secured ? [KEY] : [] });
        statuses.behaviour = world;
        const query = wait === undefined ? "" : `?wait=${encodeURIComponent(wait)}`;
        const headers: Record<string, string> = key === "none"
          ? {}
          : { authorization: `Bearer ${key === "right" ? KEY : "nope"}` };
        const response = await app.request(`/payments/${encodeURIComponent(id)}${query}`, {
          headers,
        });
        const text = await response.text();
        const where = `${id} ${query} (${world}, key ${key}) -> ${response.status}: ${text}`;
        assert.ok(doc.statuses.has(response.status), `undocumented status: ${where}`);
        assert.equal(publisher.calls, 0, "a read never writes");
        assert.ok(response.headers.get("x-correlation-id"), where);

        const valid = PaymentIdSchema.safeParse(id).success && validWait(wait);
        if (secured && key !== "right") {
          assert.equal(response.status, 401, where);
          assert.equal(statuses.reads.length, 0, where);
          return;
        }
        if (!valid) {
          assert.equal(response.status, 400, where);
          assert.equal(statuses.reads.length, 0, `an invalid request is never read: ${where}`);
        } else {
          const expected = { decided: 200, unknown: 404, deciding: 404, unavailable: 503 }[world];
          assert.equal(response.status, expected, where);
          assert.deepEqual(statuses.reads.map((r) => r.paymentId), [id], where);
        }
        if (response.status === 200) {
          const body = PaymentStatusSchema.parse(JSON.parse(text));
          assert.equal(body.payment_id, id, where);
        } else {
          assert.equal(response.headers.get("content-type"), PROBLEM_CONTENT_TYPE, where);
          assert.equal(JSON.parse(text).status, response.status, where);
        }
        if (response.status === 503) assert.ok(response.headers.get("retry-after"), where);
      }),
      { numRuns: 300 },
    );
  });
}

Deno.test("every payment a POST accepts can be asked about at the status URL it was given", async () => {
  await fc.assert(
    fc.asyncProperty(validIds, async (id) => {
      const { app, statuses } = testApp();
      statuses.behaviour = "decided";
      const posted = await app.request("/payments", postJson(paymentRequest(id)));
      if (posted.status !== 202) {
        // Only the probe's reserved marks are refused among valid ids.
        assert.equal(posted.status, 400, await posted.text());
        return;
      }
      const { status_url } = await posted.json();
      assert.equal(posted.headers.get("location"), status_url);
      const read = await app.request(status_url);
      assert.equal(read.status, 200, `${id}: ${status_url}`);
      assert.equal((await read.json()).payment_id, id);
    }),
    { numRuns: 200 },
  );
});
