/**
 * The producer's HTTP API as a Hono app built by {@linkcode createApp}: no
 * server, no globals, so tests drive it through `app.request()`.
 *
 * @module
 */
import { OpenAPIHono } from "@hono/zod-openapi";
import { HTTPException } from "hono/http-exception";
import type { Logger } from "@logtape/logtape";
import { Admission } from "./admission.ts";
import type { ProducerConfig } from "./config.ts";
import { problemFor, type ProducerEnv } from "./context.ts";
import { registerDocsRoutes } from "./docs.ts";
import type { ProducerMetrics } from "./metrics.ts";
import { createShedder } from "./middleware/admission_gate.ts";
import { apiKey } from "./middleware/api_key.ts";
import { correlation } from "./middleware/correlation.ts";
import { httpMetrics } from "./middleware/http_metrics.ts";
import type { PaymentPublisher } from "./publisher.ts";
import { type ReadinessCheck, registerOperationRoutes } from "./routes/operations.ts";
import { registerPaymentRoutes } from "./routes/payments.ts";
import { ProducerStats } from "./stats.ts";

/** The settings the HTTP layer uses. */
export type AppConfig = Pick<
  ProducerConfig,
  | "apiKeys"
  | "maxBodyBytes"
  | "sendTimeoutMs"
  | "retryAfterSeconds"
  | "source"
  | "maxInflightPayments"
  | "maxQueuedBytes"
>;

/** Everything {@linkcode createApp} needs. */
export interface AppDeps {
  publisher: PaymentPublisher;
  metrics: ProducerMetrics;
  config: AppConfig;
  /** Defaults to the publisher's readiness. */
  readiness?: ReadinessCheck;
  /** Where request lines and publish failures are logged (main.ts: `["producer", "http"]`). */
  logger: Logger;
  stats?: ProducerStats;
  now?: () => Date;
  /** Defaults to budgets from the config's maxInflightPayments / maxQueuedBytes. */
  admission?: Admission;
}

/** Route patterns and the methods each allows (for 405 answers). */
const ALLOWED: Record<string, string> = {
  "/payments": "POST",
  "/payments/single": "POST",
  "/payments/batch": "POST",
  "/health": "GET, HEAD",
  "/ready": "GET, HEAD",
  "/metrics": "GET, HEAD",
  "/stats": "GET, HEAD",
  "/openapi.json": "GET, HEAD",
  "/docs": "GET, HEAD",
};

const isProtected = (path: string) =>
  path === "/stats" || path === "/payments" || path.startsWith("/payments/");

/**
 * Builds the producer API.
 *
 * @example
 * ```ts
 * const app = createApp({
 *   publisher: new FakePublisher(), metrics, config, logger: getLogger(["producer", "http"]),
 * });
 * const response = await app.request("/health");
 * ```
 */
export function createApp(deps: AppDeps): OpenAPIHono<ProducerEnv> {
  const { logger } = deps;
  const stats = deps.stats ?? new ProducerStats(deps.now);
  const now = deps.now ?? (() => new Date());
  const secured = deps.config.apiKeys.length > 0;
  const admission = deps.admission ?? new Admission({
    maxInflightPayments: deps.config.maxInflightPayments,
    maxQueuedBytes: deps.config.maxQueuedBytes,
  });
  deps.metrics.observeAdmission(() => admission.state());
  const shed = createShedder({
    admission,
    metrics: deps.metrics,
    stats,
    retryAfterSeconds: deps.config.retryAfterSeconds,
    logger,
  });

  const app = new OpenAPIHono<ProducerEnv>({
    defaultHook: (result, c) => {
      if (result.success) return;
      const errors = result.error.issues.map((issue) => ({
        path: issue.path.map(String).join(".") || "body",
        message: issue.message,
      }));
      return problemFor(
        c,
        400,
        "validation",
        `${errors.length} invalid field${errors.length === 1 ? "" : "s"}: ` +
          errors.slice(0, 5).map((error) => error.path).join(", ") +
          (errors.length > 5 ? ", ..." : ""),
        { errors },
      );
    },
  });

  app.use(httpMetrics(deps.metrics));
  app.use(correlation(logger));
  app.use(apiKey({ keys: deps.config.apiKeys, protects: isProtected }));

  registerPaymentRoutes(app, {
    publisher: deps.publisher,
    metrics: deps.metrics,
    stats,
    logger,
    source: deps.config.source,
    sendTimeoutMs: deps.config.sendTimeoutMs,
    maxBodyBytes: deps.config.maxBodyBytes,
    retryAfterSeconds: deps.config.retryAfterSeconds,
    secured,
    now,
    admission,
    shed,
  });
  registerOperationRoutes(app, {
    metrics: deps.metrics,
    stats,
    readiness: deps.readiness ?? (() => deps.publisher.ready()),
    topic: deps.publisher.topic,
    retryAfterSeconds: deps.config.retryAfterSeconds,
    secured,
    now,
  });

  if (secured) {
    app.openAPIRegistry.registerComponent("securitySchemes", "bearer", {
      type: "http",
      scheme: "bearer",
      description: "One of the keys in API_KEYS",
    });
  }
  app.doc31("/openapi.json", {
    openapi: "3.1.0",
    info: {
      title: "Payment Producer API",
      version: "1.0.0",
      description: "Accepts payments and answers 202 only once Kafka acknowledged them.",
    },
  });
  registerDocsRoutes(app, { specUrl: "/openapi.json" });

  for (const [path, allow] of Object.entries(ALLOWED)) {
    app.all(
      path,
      (c) =>
        problemFor(c, 405, "method-not-allowed", `${c.req.method} is not allowed on ${path}`, {}, {
          allow,
        }),
    );
  }

  app.notFound((c) => problemFor(c, 404, "not-found", "No such endpoint"));
  app.onError((error, c) => {
    if (error instanceof HTTPException && error.status < 500) {
      const malformed = error.status === 400;
      return problemFor(
        c,
        error.status,
        malformed ? "malformed-json" : "bad-request",
        malformed ? "The request body is not valid JSON" : error.message || "Bad request",
      );
    }
    logger.error("Unhandled error answering {method} {path}: {error}", {
      method: c.req.method,
      path: c.req.path.slice(0, 256),
      error,
    });
    return problemFor(c, 500, "internal", "The server could not answer this request");
  });
  return app;
}
