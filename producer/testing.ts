/**
 * Helpers shared by the producer's tests: an app over a fake publisher, and
 * payment payloads.
 *
 * @module
 */

import { type AppConfig, createApp } from "./app.ts";
import { FakePublisher } from "./fake_publisher.ts";
import { createProducerMetrics, createProducerRegistry } from "./metrics.ts";

/** Settings of test apps: small limits so tests stay fast. */
export const TEST_CONFIG: AppConfig = {
  apiKeys: [],
  maxBodyBytes: 1024 * 1024,
  sendTimeoutMs: 200,
  retryAfterSeconds: 7,
  source: "payment-producer",
  maxInflightPayments: 2000,
  maxQueuedBytes: 4 * 1024 * 1024,
};

/** A fresh app over a fake publisher, its metrics and its publisher. */
export function testApp(config: Partial<AppConfig> = {}) {
  const publisher = new FakePublisher();
  const metrics = createProducerMetrics(
    createProducerRegistry({ defaults: false }),
    publisher.topic,
  );
  const app = createApp({ publisher, metrics, config: { ...TEST_CONFIG, ...config } });
  return { app, publisher, metrics };
}

/** A valid payment request body. */
export function payment(id: string, overrides: Record<string, unknown> = {}) {
  return {
    payment_id: id,
    amount: 99.99,
    merchant_id: "MERCH-001",
    customer_id: "CUST-001",
    ...overrides,
  };
}

/** A JSON POST request init, with the Content-Length an HTTP client would send. */
export function postJson(body: unknown, headers: Record<string, string> = {}): RequestInit {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  return {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "content-length": String(new TextEncoder().encode(text).length),
      ...headers,
    },
    body: text,
  };
}
