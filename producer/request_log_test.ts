import assert from "node:assert/strict";
import type { LogRecord } from "@logtape/logtape";
import { configureLogging, formatJsonLine, getPrettyFormatter } from "@payments/shared/logging";
import { paymentRequest } from "@payments/testing/payments";
import { postJson, testApp } from "./testing.ts";

async function requestLog(
  send: (app: ReturnType<typeof testApp>["app"]) => Response | Promise<Response>,
  config: Parameters<typeof testApp>[0] = {},
) {
  const records: LogRecord[] = [];
  await using _logging = await configureLogging(
    { level: "debug", format: "json" },
    { stdout: false, extraSink: (record) => records.push(record) },
  );
  const response = await send(testApp(config).app);
  await response.body?.cancel();
  const lines = records.filter((r) =>
    r.category.join(".") === "payments.producer.http" &&
    r.properties.status === response.status
  );
  assert.equal(lines.length, 1, records.map((r) => formatJsonLine(r)).join(""));
  return { response, record: lines[0]!, all: records };
}

Deno.test("a rejected batch's log line says why: problem title and field paths, never the body", async () => {
  const secret = "SECRET-DESCRIPTION-7f3a";
  const { record, all } = await requestLog((app) =>
    app.request(
      "/payments/batch",
      postJson({
        payments: [
          paymentRequest("B-1", { amount: -1, description: secret }),
          paymentRequest("B-2", { currency: "usd" }),
        ],
      }),
    )
  );
  assert.equal(record.level, "info");
  assert.equal(record.properties.status, 400);
  assert.equal(record.properties.problem, "Bad Request");
  assert.equal(record.properties.fields, "payments.0.amount,payments.1.currency");
  assert.match(String(record.properties.detail), /2 invalid fields/);
  const pretty = getPrettyFormatter({ color: false })(record);
  assert.match(pretty, /POST \/payments\/batch answered 400/);
  assert.match(pretty, /fields=payments\.0\.amount,payments\.1\.currency/);
  for (const line of all) assert.doesNotMatch(formatJsonLine(line), new RegExp(secret));
});

Deno.test("malformed JSON and a wrong content type are logged with their reason", async () => {
  const malformed = await requestLog((app) =>
    app.request("/payments", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{x",
    })
  );
  assert.equal(malformed.record.properties.detail, "The request body is not valid JSON");
  const text = await requestLog((app) =>
    app.request("/payments", {
      method: "POST",
      headers: { "content-type": "text/plain" },
      body: "x",
    })
  );
  assert.equal(text.record.properties.status, 415);
  assert.equal(text.record.properties.problem, "Unsupported Media Type");
});

Deno.test("an unmatched route logs the real path, bounded, with control characters escaped", async () => {
  const { record } = await requestLog((app) =>
    app.request(`/no/such%0Apath%1B[31m/${"x".repeat(500)}`)
  );
  assert.equal(record.properties.status, 404);
  assert.equal(record.properties.handler, "unmatched");
  const path = String(record.properties.path);
  assert.ok(path.startsWith("/no/such"), path);
  assert.ok(![...path].some((ch) => ch < " " || ch === "\x7f"), "no raw control character");
  assert.ok(path.length <= 210, `bounded: ${path.length}`);
  assert.match(getPrettyFormatter({ color: false })(record), /GET \/no\/such.* answered 404/);
});

Deno.test("a shed request's line is debug: the shed counter and the gate's warning carry overload", async () => {
  const { response, record } = await requestLog(
    (app) =>
      app.request(
        "/payments/batch",
        postJson({ payments: [paymentRequest("S-1"), paymentRequest("S-2")] }),
      ),
    { maxInflightPayments: 1 },
  );
  assert.equal(response.status, 503);
  assert.equal(record.level, "debug");
  assert.equal(record.properties.problem, "Service Unavailable");
});
