/**
 * The HTTP side of a load run: posting payments to the producer API and checking,
 * before the first payment, that the API is there and accepts our key.
 *
 * @module
 */

/** The producer cannot be used: unreachable, not our API, or our key is rejected. */
export class TargetError extends Error {
  override name = "TargetError";
  constructor(message: string, readonly retriable: boolean, options?: ErrorOptions) {
    super(message, options);
  }
}

/** Problem type of a request the producer shed: refused at once, nothing of it written. */
export const OVERLOADED_TYPE = "urn:payments:problem:overloaded";

/** Whether an answer is a shed request (503 problem of type {@linkcode OVERLOADED_TYPE}). */
export function isShed(status: number, body: unknown): boolean {
  return status === 503 && typeof body === "object" && body !== null &&
    (body as { type?: unknown }).type === OVERLOADED_TYPE;
}

/** Where and how to send. */
export interface Target {
  url: string;
  apiKey?: string;
  timeoutMs: number;
}

/** What one POST came to. */
export type PostResult =
  | {
    kind: "response";
    status: number;
    body: unknown;
    latencyMs: number;
    /** The `Retry-After` header in seconds, when there is one. */
    retryAfterSeconds?: number;
  }
  | { kind: "error"; error: "timeout" | "network"; message: string; latencyMs: number };

function headers(target: Target, correlationId?: string): Record<string, string> {
  return {
    "content-type": "application/json",
    ...(target.apiKey ? { authorization: `Bearer ${target.apiKey}` } : {}),
    ...(correlationId ? { "x-correlation-id": correlationId } : {}),
  };
}

/**
 * Posts one request: a single payment to `/payments`, several to `/payments/batch`.
 * Never throws; network failures and timeouts come back as `kind: "error"`.
 */
export async function postPayments(
  fetchFn: typeof fetch,
  target: Target,
  payments: Record<string, unknown>[],
  correlationId?: string,
  now: () => number = () => performance.now(),
): Promise<PostResult> {
  const single = payments.length === 1;
  const path = single ? "/payments" : "/payments/batch";
  const body = JSON.stringify(single ? payments[0] : { payments });
  const started = now();
  try {
    const response = await fetchFn(target.url + path, {
      method: "POST",
      headers: headers(target, correlationId),
      body,
      signal: AbortSignal.timeout(target.timeoutMs),
    });
    const text = await response.text();
    let parsed: unknown = undefined;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = text;
    }
    const retryAfter = Number(response.headers.get("retry-after") ?? Number.NaN);
    return {
      kind: "response",
      status: response.status,
      body: parsed,
      latencyMs: now() - started,
      ...(Number.isFinite(retryAfter) && retryAfter >= 0 ? { retryAfterSeconds: retryAfter } : {}),
    };
  } catch (error) {
    const name = (error as Error)?.name;
    const timeout = name === "TimeoutError" || name === "AbortError";
    return {
      kind: "error",
      error: timeout ? "timeout" : "network",
      message: (error as Error)?.message ?? String(error),
      latencyMs: now() - started,
    };
  }
}

/**
 * Checks the producer before a run, writing nothing: `GET /health` must answer, and an
 * empty batch must be refused for its content (400), not for the key (401).
 */
export async function checkTarget(fetchFn: typeof fetch, target: Target): Promise<void> {
  let health: Response;
  try {
    health = await fetchFn(`${target.url}/health`, {
      signal: AbortSignal.timeout(target.timeoutMs),
    });
    await health.body?.cancel();
  } catch (error) {
    throw new TargetError(
      `Cannot reach the producer at ${target.url}: ${(error as Error).message} ` +
        `(is it running? start it with \`deno task producer\` or \`deno task dev\`, or pass --url)`,
      true,
      { cause: error },
    );
  }
  if (!health.ok) {
    throw new TargetError(
      `The producer at ${target.url} is not healthy: GET /health answered ${health.status}`,
      true,
    );
  }
  const probe = await fetchFn(`${target.url}/payments/batch`, {
    method: "POST",
    headers: headers(target, "loadgen-preflight"),
    body: JSON.stringify({ payments: [] }),
    signal: AbortSignal.timeout(target.timeoutMs),
  });
  await probe.body?.cancel();
  if (probe.status === 401 || probe.status === 403) {
    throw new TargetError(
      target.apiKey
        ? `The producer at ${target.url} rejected the API key (${probe.status}): check --api-key ` +
          `against the producer's API_KEYS`
        : `The producer at ${target.url} requires an API key (${probe.status}): pass --api-key ` +
          `or set LOADGEN_API_KEY`,
      false,
    );
  }
  if (probe.status === 404 || probe.status === 405) {
    throw new TargetError(
      `${target.url} does not look like the payments API: POST /payments/batch answered ` +
        `${probe.status}`,
      false,
    );
  }
}
