/**
 * The OpenAPI document against what the server really answers. Every operation of the
 * generated document is driven through `app.request()` with every provocation the
 * middleware stack reacts to (authentication, content type, body size, malformed and
 * invalid JSON, an invalid path parameter or query, Kafka down, not ready, the consumers'
 * stores answering or not), in every configuration that changes the
 * document (API keys on or off). The statuses seen must be exactly the documented ones:
 * none undocumented, and none documented that no input can produce.
 */
import assert from "node:assert/strict";
import type { FakeBehaviour } from "./fake_publisher.ts";
import type { FakeStatusBehaviour } from "./fake_status_reader.ts";
import { paymentRequest } from "@payments/testing/payments";
import { testApp } from "./testing.ts";

const MAX_BODY_BYTES = 4096;
const KEY = "test-key-1";

/** A valid body for each request schema of the document, by component name. */
const VALID_BODIES: Record<string, unknown> = {
  PaymentRequest: paymentRequest("DOC-1"),
  BatchPaymentRequest: { payments: [paymentRequest("DOC-1"), paymentRequest("DOC-2")] },
};

interface Operation {
  method: string;
  path: string;
  bodySchema?: string;
  documented: Set<number>;
}

interface OpenApiDocument {
  paths: Record<
    string,
    Record<string, {
      requestBody?: { content: Record<string, { schema: { $ref?: string } }> };
      responses: Record<string, unknown>;
    }>
  >;
}

function operationsOf(doc: OpenApiDocument): Operation[] {
  return Object.entries(doc.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, operation]) => {
      const ref = operation.requestBody?.content["application/json"]?.schema.$ref;
      return {
        method: method.toUpperCase(),
        path,
        ...(ref ? { bodySchema: ref.split("/").pop()! } : {}),
        documented: new Set(Object.keys(operation.responses).map(Number)),
      };
    })
  );
}

/** A valid value for each path parameter of the document. */
const VALID_PARAMS: Record<string, string> = { payment_id: "DOC-1" };

/** One way of sending a request that some middleware or handler reacts to. */
interface Provocation {
  name: string;
  headers: (valid: Record<string, string>) => Record<string, string>;
  /** The body, from the operation's valid body (undefined: it takes none). */
  body: (valid: string | undefined) => string | undefined;
  /** The path and query, from the operation's valid path (default: as it is). */
  path?: (valid: string) => string;
}

const JSON_HEADERS = { "content-type": "application/json" };
const PROVOCATIONS: Provocation[] = [
  { name: "valid", headers: (h) => h, body: (b) => b },
  { name: "no API key", headers: ({ authorization: _, ...h }) => h, body: (b) => b },
  {
    name: "wrong API key",
    headers: (h) => ({ ...h, authorization: "Bearer wrong" }),
    body: (b) => b,
  },
  { name: "not JSON", headers: (h) => ({ ...h, "content-type": "text/plain" }), body: (b) => b },
  { name: "no content type", headers: ({ "content-type": _, ...h }) => h, body: (b) => b },
  { name: "malformed JSON", headers: (h) => h, body: (b) => b && "{" },
  { name: "empty object", headers: (h) => h, body: (b) => b && "{}" },
  { name: "wrong types", headers: (h) => h, body: (b) => b && '{"payments":"x","amount":"x"}' },
  {
    name: "too large",
    headers: (h) => h,
    body: (b) => b && JSON.stringify({ pad: "x".repeat(MAX_BODY_BYTES * 2) }),
  },
  {
    name: "hostile correlation id",
    headers: (h) => ({ ...h, "x-correlation-id": "a\u0001b" }),
    body: (b) => b,
  },
  {
    name: "invalid path parameter",
    headers: (h) => h,
    body: (b) => b,
    path: (p) => p.replace("/DOC-1", "/bad%20id"),
  },
  { name: "query out of range", headers: (h) => h, body: (b) => b, path: (p) => `${p}?wait=31` },
];

/** Every state of the world that changes an answer: Kafka's, readiness, the stores'. */
const WORLDS: { behaviour: FakeBehaviour; ready: boolean; statuses: FakeStatusBehaviour }[] = [
  { behaviour: "accept", ready: true, statuses: "decided" },
  { behaviour: "unavailable", ready: false, statuses: "unavailable" },
  { behaviour: "rejected", ready: true, statuses: "unknown" },
];

async function observe(secured: boolean) {
  const config = { maxBodyBytes: MAX_BODY_BYTES, apiKeys: secured ? [KEY] : [] };
  const docResponse = await testApp(config).app.request("/openapi.json");
  const operations = operationsOf(await docResponse.json());
  assert.ok(operations.length >= 6, `the document lists ${operations.length} operations`);
  const seen = new Map<Operation, Map<number, string>>();
  for (const world of WORLDS) {
    for (const operation of operations) {
      const { app, publisher, statuses } = testApp(config);
      publisher.behaviour = world.behaviour;
      publisher.isReady = world.ready;
      statuses.behaviour = world.statuses;
      const path = operation.path.replaceAll(/\{(\w+)\}/g, (_, name: string) => {
        assert.ok(VALID_PARAMS[name], `add a valid ${name} to VALID_PARAMS`);
        return VALID_PARAMS[name]!;
      });
      let validBody: string | undefined;
      if (operation.bodySchema) {
        const body = VALID_BODIES[operation.bodySchema];
        assert.ok(body, `add a valid ${operation.bodySchema} body to VALID_BODIES`);
        validBody = JSON.stringify(body);
      }
      const validHeaders: Record<string, string> = {
        ...(validBody ? JSON_HEADERS : {}),
        ...(secured ? { authorization: `Bearer ${KEY}` } : {}),
      };
      for (const provocation of PROVOCATIONS) {
        const body = provocation.body(validBody);
        const response = await app.request(provocation.path?.(path) ?? path, {
          method: operation.method,
          headers: provocation.headers(validHeaders),
          ...(body === undefined ? {} : { body }),
        });
        await response.body?.cancel();
        const statuses = seen.get(operation) ?? new Map<number, string>();
        statuses.set(
          response.status,
          statuses.get(response.status) ??
            `${provocation.name} (Kafka ${world.behaviour}, ready ${world.ready}, ` +
              `stores ${world.statuses})`,
        );
        seen.set(operation, statuses);
      }
    }
  }
  return seen;
}

for (const secured of [false, true]) {
  Deno.test(
    `every status an operation answers is in the OpenAPI document, and every documented one is answered (API keys ${
      secured ? "on" : "off"
    })`,
    async () => {
      const seen = await observe(secured);
      const undocumented: string[] = [];
      const unreachable: string[] = [];
      for (const [operation, statuses] of seen) {
        const name = `${operation.method} ${operation.path}`;
        for (const [status, how] of statuses) {
          if (!operation.documented.has(status)) undocumented.push(`${name} ${status} on ${how}`);
        }
        for (const status of operation.documented) {
          if (!statuses.has(status)) unreachable.push(`${name} ${status}`);
        }
      }
      assert.deepEqual(undocumented, [], "answered but not documented");
      assert.deepEqual(unreachable, [], "documented but no input produced it");
    },
  );
}

Deno.test("the document publishes the accepted currencies and the batch's all-or-nothing rule", async () => {
  const doc = await (await testApp().app.request("/openapi.json")).json();
  const schemas = doc.components.schemas;
  const currency = schemas.PaymentRequest.properties.currency;
  assert.ok(Array.isArray(currency.enum), "currency is an enum");
  assert.ok(currency.enum.includes("USD") && currency.enum.includes("EUR"));
  assert.ok(!currency.enum.includes("usd") && !currency.enum.includes("ABC"));
  assert.match(schemas.BatchPaymentRequest.description, /unique within the batch/);
  assert.match(schemas.BatchPaymentRequest.description, /rejected with 400/);

  // The enum is the server's truth: a code outside it is refused, one inside accepted.
  const { app } = testApp();
  for (const [code, status] of [["ABC", 400], ["usd", 400], [currency.enum.at(-1), 202]]) {
    const response = await app.request("/payments", {
      method: "POST",
      headers: JSON_HEADERS,
      body: JSON.stringify(paymentRequest(`CUR-${code}`, { currency: code })),
    });
    await response.body?.cancel();
    assert.equal(response.status, status, `currency ${code}`);
  }
});
