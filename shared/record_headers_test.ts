import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import {
  buildRecordHeaders,
  headerText,
  readRecordHeaders,
  RECORD_CONTENT_TYPE,
} from "@payments/shared/record_headers";

Deno.test("buildRecordHeaders stamps correlation id, source and content type", () => {
  assert.deepEqual(
    buildRecordHeaders({ correlationId: "c-1", source: "payment-producer" }),
    {
      correlation_id: "c-1",
      source: "payment-producer",
      "content-type": RECORD_CONTENT_TYPE,
    },
  );
});

Deno.test("readRecordHeaders reads back what buildRecordHeaders wrote, as Buffers or strings", () => {
  const built = buildRecordHeaders({ correlationId: "c-1", source: "p" });
  const asBuffers = Object.fromEntries(
    Object.entries(built).map(([key, value]) => [key, Buffer.from(value)]),
  );
  const expected = {
    correlationId: "c-1",
    source: "p",
    contentType: RECORD_CONTENT_TYPE,
  };
  assert.deepEqual(readRecordHeaders(asBuffers), expected);
  assert.deepEqual(readRecordHeaders(built), expected);
});

Deno.test("readRecordHeaders leaves out missing, invalid and non-UTF-8 values instead of throwing", () => {
  assert.deepEqual(readRecordHeaders(undefined), {});
  assert.deepEqual(readRecordHeaders({}), {});
  assert.deepEqual(
    readRecordHeaders({
      correlation_id: Buffer.from([0xff, 0xfe, 0x00]),
      source: "has space",
      "content-type": "application/json\n",
    }),
    {},
  );
  assert.deepEqual(readRecordHeaders({ correlation_id: "x".repeat(129) }), {});
});

Deno.test("headerText takes the last value of a repeated header", () => {
  assert.equal(headerText({ source: [Buffer.from("a"), "b"] }, "source"), "b");
  assert.equal(headerText({ source: [] }, "source"), undefined);
});
