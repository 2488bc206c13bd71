/**
 * `/docs` as a person meets it: a real headless Chromium (no network beyond this
 * machine) loads the page from a running producer, and every operation of
 * `/openapi.json` must be listed in the DOM Swagger UI rendered.
 */
import assert from "node:assert/strict";
import { freePort, sharedBrokers } from "@payments/testing/brokers";
import { dumpDom } from "@payments/testing/chromium";
import { startService } from "@payments/testing/services";

/** `METHOD path` of every operation Swagger UI rendered (an opblock and its data-path). */
function renderedOperations(dom: string): string[] {
  const blocks = dom.matchAll(/class="opblock opblock-(\w+)[^"]*"[\s\S]*?data-path="([^"]+)"/g);
  return [...blocks].map(([, method, path]) => `${method!.toUpperCase()} ${path}`).sort();
}

Deno.test({
  name: "/docs renders every operation of /openapi.json in headless Chromium with no CDN",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    // /docs needs no Kafka: the producer serves it while it connects.
    await using producer = await startService("producer", {
      env: { KAFKA_BROKERS: sharedBrokers().join(",") },
      port: freePort("127.0.0.1"),
      waitReady: false,
    });
    const doc = await (await fetch(`${producer.url}/openapi.json`)).json();
    const documented = Object.entries(doc.paths as Record<string, Record<string, unknown>>)
      .flatMap(([path, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${path}`))
      .sort();
    assert.ok(documented.length >= 6, documented.join(", "));
    assert.ok(documented.includes("GET /payments/{payment_id}"), "the status route is documented");

    const page = await (await fetch(`${producer.url}/docs`)).text();
    assert.doesNotMatch(page, /(src|href)="https?:/, "the page loads nothing from elsewhere");

    const dom = await dumpDom(`${producer.url}/docs`);
    assert.deepEqual(renderedOperations(dom), documented, dom.slice(0, 2000));
  },
});

Deno.test("without the browser, dumpDom fails in one line saying how to install it", async () => {
  await assert.rejects(
    () => dumpDom("http://127.0.0.1:9/", { command: "chromium-not-installed-here" }),
    (error: Error) =>
      !error.message.includes("\n") &&
      error.message ===
        "chromium-not-installed-here is not installed; install it with: apt-get install chromium",
  );
});
