/**
 * The producer's HTTP API as a Hono app built by {@linkcode createApp}: no
 * server, no globals, so tests drive it through `app.request()`.
 *
 * A request's walk, in the order this file registers it:
 * 1. every request: recognised as the producer's own probe or not (`probe_requests`),
 *    its server span named by its route (`server_span`), counted and timed unless the
 *    probe's (`http_metrics`), given its correlation id and logged (`correlation`), its
 *    key checked on protected routes (`api_key`);
 * 2. a payment route: 415 unless JSON (`json_body`), shed on arrival when the budgets
 *    are full (`admission`), 413 past the body limit, 400 unless the body is valid
 *    (`answerInvalid`) and free of the probe's reserved ids (`reserved_ids`), shed when
 *    its payments do not fit, then its handler (`routes/payments.ts`) publishes
 *    (`ingest.ts`) and answers;
 * 3. every other route: its handler (`routes/payment_status.ts` reads a payment's
 *    outcome from the consumers, `routes/operations.ts`, `docs.ts`, the document);
 * 4. nothing matched: 405 with `Allow` on a known path, else 404; a throw: `onError`.
 *
 * Routes are declared once, in `routes/declarations.ts`.
 *
 * @module
 */
import { OpenAPIHono } from "@hono/zod-openapi";
import type { Context, Handler, MiddlewareHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import type { Logger } from "@logtape/logtape";
import type { ZodError } from "zod";
import type { BatchPaymentRequest, PaymentRequest } from "@payments/shared/payment";
import { Admission } from "./admission.ts";
import type { ProducerConfig } from "./config.ts";
import { problemFor, type ProducerEnv } from "./context.ts";
import { docsHandlers } from "./docs.ts";
import type { ProducerMetrics } from "./metrics.ts";
import { createAdmissionControl } from "./middleware/admission.ts";
import { apiKey } from "./middleware/api_key.ts";
import { correlation } from "./middleware/correlation.ts";
import { httpMetrics } from "./middleware/http_metrics.ts";
import { limitBody, requireJson } from "./middleware/json_body.ts";
import { recognizeProbe } from "./middleware/probe_requests.ts";
import { countRejections } from "./middleware/rejections.ts";
import { refuseReservedIds } from "./middleware/reserved_ids.ts";
import { nameServerSpan } from "./middleware/server_span.ts";
import type { PaymentPublisher } from "./publisher.ts";
import {
  allowedMethods,
  isProtectedPath,
  problemContent,
  type RouteDeclaration,
  type RouteName,
  ROUTES,
} from "./routes/declarations.ts";
import { operationHandlers, type ReadinessCheck } from "./routes/operations.ts";
import { paymentStatusHandler } from "./routes/payment_status.ts";
import { paymentHandlers } from "./routes/payments.ts";
import { ProducerStats } from "./stats.ts";
import type { PaymentStatusReader } from "./status/status_reader.ts";

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
  /** Where `GET /payments/{payment_id}` reads outcomes (`status/status_reader.ts`). */
  statuses: PaymentStatusReader;
  /**
   * The token of the producer's own probe (`probe/`): requests carrying it may use the
   * probe's reserved ids and are left out of the metrics. None: no request is the probe.
   */
  probeToken?: string;
  metrics: ProducerMetrics;
  config: AppConfig;
  /** Defaults to the publisher's readiness. */
  readiness?: ReadinessCheck;
  /** Where request lines and publish failures are logged (main.ts: `["payments", "producer", "http"]`). */
  logger: Logger;
  stats?: ProducerStats;
  now?: () => Date;
  /** Defaults to budgets from the config's maxInflightPayments / maxQueuedBytes. */
  admission?: Admission;
}

/** The `info` of the OpenAPI document. */
const DOCUMENT = {
  openapi: "3.1.0",
  info: {
    title: "Payment Producer API",
    version: "1.0.0",
    description: "Accepts payments and answers 202 only once Kafka acknowledged them.",
  },
};

/**
 * Builds the producer API.
 *
 * @example
 * ```ts
 * const app = createApp({
 *   publisher: new FakePublisher(), metrics, config, logger: getLogger(["payments", "producer", "http"]),
 * });
 * const response = await app.request("/health");
 * ```
 */
export function createApp(deps: AppDeps): OpenAPIHono<ProducerEnv> {
  const { config, logger, metrics } = deps;
  const stats = deps.stats ?? new ProducerStats(deps.now);
  const now = deps.now ?? (() => new Date());
  const routes: readonly RouteDeclaration[] = Object.values(ROUTES);
  const app = new OpenAPIHono<ProducerEnv>({ defaultHook: answerInvalid });

  // 1. Every request.
  app.use(recognizeProbe(deps.probeToken));
  app.use(nameServerSpan());
  app.use(httpMetrics(metrics));
  app.use(correlation(logger));
  app.use(apiKey({ keys: config.apiKeys, protects: (path) => isProtectedPath(routes, path) }));

  // 2. and 3. Each declared route, served once.
  const served = routeServer(app, config.apiKeys.length > 0);
  servePaymentRoutes(served.serve, { ...deps, stats, now });
  serveOperationRoutes(app, served.serve, { ...deps, stats, now });
  served.checkAllServed();

  // 4. Nothing matched, or something threw.
  answerTheRest(app, routes, logger);
  return app;
}

type Serve = (name: RouteName, handler: Handler<ProducerEnv>, ...middleware: Middleware[]) => void;

/**
 * Serves declared routes on `app`, each with its handler and the middleware of its kind
 * (and the API key's security scheme when keys are set); `checkAllServed` throws if a
 * declared route was left without a handler.
 */
function routeServer(app: OpenAPIHono<ProducerEnv>, secured: boolean) {
  const served = new Set<RouteName>();
  const serve: Serve = (name, handler, ...middleware) => {
    const { operation, protected: needsKey } = ROUTES[name];
    const guarded = secured && needsKey;
    app.openapi(
      {
        ...operation,
        middleware,
        ...(guarded ? { security: [{ bearer: [] }] } : {}),
        responses: {
          ...operation.responses,
          ...(guarded
            ? { 401: problemContent("Missing or invalid API key (API_KEYS is set)") }
            : {}),
        },
      },
      // The handlers are typed against their declaration where they are written.
      handler as never,
    );
    served.add(name);
  };
  const checkAllServed = () => {
    const unserved = (Object.keys(ROUTES) as RouteName[]).filter((name) => !served.has(name));
    if (unserved.length > 0) throw new Error(`Declared routes without a handler: ${unserved}`);
    if (secured) {
      app.openAPIRegistry.registerComponent("securitySchemes", "bearer", {
        type: "http",
        scheme: "bearer",
        description: "One of the keys in API_KEYS",
      });
    }
  };
  return { serve, checkAllServed };
}

type RouteDeps = AppDeps & { stats: ProducerStats; now: () => Date };

/** The payment routes: admitted, validated, published; and a payment's status. */
function servePaymentRoutes(serve: Serve, deps: RouteDeps) {
  const { config, metrics, stats, logger } = deps;
  const admission = deps.admission ?? new Admission({
    maxInflightPayments: config.maxInflightPayments,
    maxQueuedBytes: config.maxQueuedBytes,
  });
  metrics.observeAdmission(() => admission.state());
  const admissionControl = createAdmissionControl({
    admission,
    metrics,
    stats,
    retryAfterSeconds: config.retryAfterSeconds,
    maxBodyBytes: config.maxBodyBytes,
    logger,
  });
  const paymentMiddleware = [
    countRejections(stats),
    requireJson(),
    // Before the body limit: for a body without Content-Length it reads the whole body.
    admissionControl.onArrival,
    limitBody(config.maxBodyBytes),
  ];
  const payments = paymentHandlers({
    publisher: deps.publisher,
    metrics,
    stats,
    logger,
    source: config.source,
    sendTimeoutMs: config.sendTimeoutMs,
    retryAfterSeconds: config.retryAfterSeconds,
    now: deps.now,
  });
  const one = (payment: PaymentRequest) => [{ payment, path: "" }];
  const many = (batch: BatchPaymentRequest) =>
    batch.payments.map((payment, i) => ({ payment, path: `payments.${i}.` }));
  const single = refuseReservedIds(one, admissionControl.admit(payments.single));
  serve("payment", single, ...paymentMiddleware);
  serve("paymentLab", single, ...paymentMiddleware);
  serve(
    "batch",
    refuseReservedIds(many, admissionControl.admit(payments.batch)),
    ...paymentMiddleware,
  );
  serve(
    "paymentStatus",
    paymentStatusHandler({
      statuses: deps.statuses,
      retryAfterSeconds: config.retryAfterSeconds,
    }),
  );
}

/** Health, readiness, stats, metrics, the OpenAPI document and its docs page. */
function serveOperationRoutes(app: OpenAPIHono<ProducerEnv>, serve: Serve, deps: RouteDeps) {
  const operations = operationHandlers({
    metrics: deps.metrics,
    stats: deps.stats,
    readiness: deps.readiness ?? (() => deps.publisher.ready()),
    topic: deps.publisher.topic,
    retryAfterSeconds: deps.config.retryAfterSeconds,
    now: deps.now,
  });
  serve("health", operations.health);
  serve("ready", operations.ready);
  serve("stats", operations.stats);
  serve("metrics", operations.metrics);
  serve("openapi", (c) => c.json(app.getOpenAPI31Document(DOCUMENT)));
  const docs = docsHandlers({ specUrl: ROUTES.openapi.operation.path });
  serve("docs", docs.page);
  serve("docsAsset", docs.asset);
}

/** 405 with Allow for a known path, 404 for an unknown one, problem+json for what threw. */
function answerTheRest(
  app: OpenAPIHono<ProducerEnv>,
  routes: readonly RouteDeclaration[],
  logger: Logger,
) {
  for (const [pattern, allow] of allowedMethods(routes)) {
    app.all(pattern, (c) =>
      problemFor(c, {
        status: 405,
        kind: "method-not-allowed",
        detail: `${c.req.method} is not allowed on ${pattern}`,
        headers: { allow },
      }));
  }
  app.notFound((c) =>
    problemFor(c, { status: 404, kind: "not-found", detail: "No such endpoint" })
  );
  app.onError((error, c) => {
    if (error instanceof HTTPException && error.status < 500) {
      const malformed = error.status === 400;
      return problemFor(c, {
        status: error.status,
        kind: malformed ? "malformed-json" : "bad-request",
        detail: malformed ? "The request body is not valid JSON" : error.message || "Bad request",
      });
    }
    logger.error("Unhandled error answering {method} {path}: {error}", {
      method: c.req.method,
      path: c.req.path.slice(0, 256),
      error,
    });
    return problemFor(c, {
      status: 500,
      kind: "internal",
      detail: "The server could not answer this request",
    });
  });
}

type Middleware = MiddlewareHandler<ProducerEnv>;

/** 400 naming every invalid field (the route validators' hook). */
function answerInvalid(
  result: { success: true } | { success: false; error: ZodError },
  c: Context<ProducerEnv>,
): Response | undefined {
  if (result.success) return undefined;
  const errors = result.error.issues.map((issue) => ({
    path: issue.path.map(String).join(".") || "body",
    message: issue.message,
  }));
  return problemFor(c, {
    status: 400,
    kind: "validation",
    detail: `${errors.length} invalid field${errors.length === 1 ? "" : "s"}: ` +
      errors.slice(0, 5).map((error) => error.path).join(", ") +
      (errors.length > 5 ? ", ..." : ""),
    extensions: { errors },
  });
}
