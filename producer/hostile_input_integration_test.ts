/**
 * Hostile input at the API, against a real producer subprocess on the shared broker:
 * every case gets a 4xx problem+json (or a bare 413/431 from the HTTP layer), the
 * process stays healthy, its memory returns near its baseline, and nothing reaches Kafka.
 */
import assert from "node:assert/strict";
import { sharedBrokers } from "@payments/testing/brokers";
import { withTimeout } from "@payments/testing/wait";
import { chunked, rawRequest, type RawResponse } from "@payments/testing/raw_http";
import { createPipelineTopics, recordsHeld } from "@payments/testing/topics";
import { reportFigures } from "@payments/testing/report";
import { serviceEnv, startService } from "@payments/testing/services";

const encoder = new TextEncoder();
const json = (value: unknown) => encoder.encode(JSON.stringify(value));
const valid = (id: string) => ({
  payment_id: id,
  amount: 10,
  merchant_id: "M-1",
  customer_id: "C-1",
});
const JSON_HEADERS: [string, string][] = [["content-type", "application/json"]];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A body with `valid(id)` text but `bytes` spliced into the description's value. */
function withRawBytes(id: string, bytes: number[]): Uint8Array {
  const [head, tail] = JSON.stringify({ ...valid(id), description: "@@" }).split("@@");
  return new Uint8Array([...encoder.encode(head), ...bytes, ...encoder.encode(tail)]);
}

interface Case {
  name: string;
  headers?: [string, string][];
  body?: Uint8Array | Uint8Array[];
  delayMs?: number;
  path?: string;
  /** Statuses allowed (default: any 4xx). */
  statuses?: number[];
  /**
   * Rejected by Deno's HTTP server before the app sees it (a malformed or oversized
   * header section): a bare 400/431 without a body is then acceptable.
   */
  httpLayer?: boolean;
  check?: (response: RawResponse) => void;
}

const depth = 100_000;
const CASES: Case[] = [
  {
    name: "JSON nested 100 000 levels deep",
    headers: JSON_HEADERS,
    body: encoder.encode(`{"payments":${"[".repeat(depth)}${"]".repeat(depth)}}`),
    statuses: [400],
  },
  {
    name: "an object nested 20 000 levels deep in a field",
    headers: JSON_HEADERS,
    body: encoder.encode(
      JSON.stringify(valid("H-nest")).replace(
        '"M-1"',
        `${'{"a":'.repeat(20_000)}1${"}".repeat(20_000)}`,
      ),
    ),
    statuses: [400],
  },
  {
    name: "10 MB body trickled in 256 KiB chunks (chunked encoding)",
    path: "/payments/batch",
    headers: [...JSON_HEADERS, ["transfer-encoding", "chunked"]],
    body: chunked(Array.from({ length: 40 }, () => new Uint8Array(256 * 1024).fill(0x20))),
    delayMs: 25,
    statuses: [413],
  },
  {
    name: "10 MB declared in content-length, sent slowly",
    path: "/payments/batch",
    headers: [...JSON_HEADERS, ["content-length", String(10 * 1024 * 1024)]],
    body: Array.from({ length: 40 }, () => new Uint8Array(256 * 1024).fill(0x20)),
    delayMs: 25,
    statuses: [413],
  },
  {
    name: "amount 1e309 (Infinity after parsing)",
    headers: JSON_HEADERS,
    body: encoder.encode(JSON.stringify(valid("H-inf")).replace('"amount":10', '"amount":1e309')),
    statuses: [400],
  },
  {
    name: "amount -0",
    headers: JSON_HEADERS,
    body: encoder.encode(JSON.stringify(valid("H-negzero")).replace('"amount":10', '"amount":-0')),
    statuses: [400],
  },
  {
    name: "__proto__ carrying the missing amount",
    headers: JSON_HEADERS,
    body: encoder.encode(
      '{"payment_id":"H-proto","merchant_id":"M-1","customer_id":"C-1","__proto__":{"amount":10}}',
    ),
    statuses: [400],
  },
  {
    name: "constructor.prototype pollution attempt next to a valid payment",
    headers: JSON_HEADERS,
    body: encoder.encode(
      JSON.stringify(valid("H-ctor")).replace(
        "{",
        '{"constructor":{"prototype":{"isAdmin":true}},',
      ),
    ),
    statuses: [400],
  },
  {
    name: "__proto__ inside a batch entry",
    path: "/payments/batch",
    headers: JSON_HEADERS,
    body: encoder.encode(
      `{"payments":[${
        JSON.stringify(valid("H-batch-proto")).replace("{", '{"__proto__":{"x":1},')
      }]}`,
    ),
    statuses: [400],
  },
  {
    name: "invalid UTF-8 in the description of an otherwise valid payment",
    headers: JSON_HEADERS,
    body: withRawBytes("H-utf8", [0xff, 0xfe, 0xc3, 0x28]),
    statuses: [400],
  },
  {
    name: "invalid UTF-8 (overlong NUL) in the payment id",
    headers: JSON_HEADERS,
    body: encoder.encode(JSON.stringify(valid("H-XX"))).map((b) => b === 0x58 ? 0xc0 : b),
    statuses: [400],
  },
  ...[
    "application/jsonp",
    "text/plain; type=application/json",
    "application/x-www-form-urlencoded; x=application/json",
    "multipart/form-data; boundary=application/json",
    "application/json-seq",
    `application/${"x".repeat(5000)}+jsonx`,
  ].map((type): Case => ({
    name: `content-type "${type.slice(0, 60)}"`,
    headers: [["content-type", type]],
    body: json(valid(`H-ct-${crypto.randomUUID().slice(0, 6)}`)),
    statuses: [415],
  })),
  {
    name: "5 000 headers",
    headers: [
      ...JSON_HEADERS,
      ...Array.from({ length: 5000 }, (_, i): [string, string] => [`x-h-${i}`, "v"]),
    ],
    body: json(valid("H-headers")),
    statuses: [400, 431],
    httpLayer: true,
  },
  {
    name: "a correlation id with a tab (a control character HTTP allows) on an invalid body",
    headers: [...JSON_HEADERS, ["x-correlation-id", "abc\tdef"]],
    body: json({ payment_id: "H-corr" }),
    statuses: [400],
    check: (response) => {
      const id = response.headers["x-correlation-id"] ?? "";
      assert.match(id, UUID, "an unsafe correlation id must be replaced by a UUID");
      assert.equal(JSON.parse(response.body).correlation_id, id);
    },
  },
  {
    name: "a correlation id with an escape sequence and CR-less newline bytes",
    headers: [...JSON_HEADERS, ["x-correlation-id", "abc\x1b[31mred\x7f"]],
    body: json({ payment_id: "H-corr2" }),
    httpLayer: true,
  },
  {
    name: "a 20 KB correlation id",
    headers: [...JSON_HEADERS, ["x-correlation-id", "c".repeat(20_000)]],
    body: json({ payment_id: "H-corr3" }),
    check: (response) => {
      if (response.status === 400) assert.match(response.headers["x-correlation-id"] ?? "", UUID);
    },
  },
];

Deno.test("hostile requests get 4xx problem+json, leave the producer healthy near its baseline memory, and write nothing", async (t) => {
  const brokers = sharedBrokers();
  const topics = await createPipelineTopics(brokers, "hostile-api");
  await withTimeout(
    (async () => {
      await using producer = await startService("producer", {
        env: serviceEnv(brokers.join(","), topics, { LOG_LEVEL: "warning" }),
      });
      // VmRSS of the service process, read by the kernel rather than by the service.
      const rss = async () => {
        const status = await Deno.readTextFile(`/proc/${producer.pid}/status`);
        return Number(/^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1]) * 1024;
      };
      // Warm up the routes so the baseline includes compiled code, not just a cold start.
      for (let i = 0; i < 20; i++) {
        await (await fetch(`${producer.url}/payments`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: "{}",
        })).body?.cancel();
      }
      const baseline = await rss();
      const before = await recordsHeld(brokers, topics.requests);

      for (const c of CASES) {
        await t.step(c.name, async () => {
          const response = await rawRequest(producer.port, {
            path: c.path ?? "/payments",
            headers: c.headers ?? [],
            ...(c.body ? { body: c.body } : {}),
            ...(c.delayMs ? { delayMs: c.delayMs } : {}),
          });
          const label = `${c.name}: ${response.status} ${response.body.slice(0, 300)}`;
          assert.ok(response.status >= 400 && response.status < 500, label);
          if (c.statuses) assert.ok(c.statuses.includes(response.status), label);
          const bare = response.body.length === 0 &&
            (response.status === 413 || response.status === 431 || c.httpLayer === true);
          if (!bare) {
            assert.match(
              response.headers["content-type"] ?? "",
              /^application\/problem\+json/,
              label,
            );
            const problem = JSON.parse(response.body);
            assert.equal(problem.status, response.status, label);
          }
          c.check?.(response);
          const health = await fetch(`${producer.url}/health`);
          assert.equal(health.status, 200, `unhealthy after ${c.name}`);
          await health.body?.cancel();
        });
      }

      await t.step("nothing was written to Kafka", async () => {
        assert.equal(await recordsHeld(brokers, topics.requests), before);
      });
      await t.step("memory returns near its baseline", async () => {
        let now = await rss();
        const limit = baseline + 96 * 1024 * 1024;
        for (let i = 0; i < 20 && now > limit; i++) {
          await new Promise((r) => setTimeout(r, 500));
          now = await rss();
        }
        const mb = (b: number) => (b / 1024 / 1024).toFixed(0);
        reportFigures("hostile API input", {
          cases: CASES.length,
          rss_baseline_mb: Number(mb(baseline)),
          rss_after_mb: Number(mb(now)),
        });
        assert.ok(now <= limit, `RSS ${mb(now)} MB vs baseline ${mb(baseline)} MB`);
      });
      await t.step("a valid payment is still accepted afterwards", async () => {
        const ok = await fetch(`${producer.url}/payments`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(valid(`H-after-${crypto.randomUUID().slice(0, 8)}`)),
        });
        assert.equal(ok.status, 202, await ok.text());
        assert.equal(await recordsHeld(brokers, topics.requests), before + 1);
      });
      assert.equal(producer.hasExited, false);
    })(),
    120_000,
    "hostile input scenario",
  );
});
