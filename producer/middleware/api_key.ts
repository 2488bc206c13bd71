/**
 * Optional API-key authentication: `Authorization: Bearer <key>` compared in
 * constant time against every configured key.
 *
 * @module
 */
import type { MiddlewareHandler } from "hono";
import { timingSafeEqual } from "node:crypto";
import { problemFor, type ProducerEnv } from "../context.ts";

/** Options of {@linkcode apiKey}. */
export interface ApiKeyOptions {
  /** Accepted keys; an empty list turns authentication off. */
  keys: readonly string[];
  /** Whether a path needs a key. */
  protects: (path: string) => boolean;
}

const encoder = new TextEncoder();

async function digest(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(text)));
}

/**
 * Whether `offered` equals one of `digests`. Comparing fixed-length SHA-256
 * digests with `timingSafeEqual`, and always checking every key, keeps the time
 * independent of where (or whether) the strings differ.
 */
async function matchesAny(offered: string, digests: readonly Uint8Array[]): Promise<boolean> {
  const candidate = await digest(offered);
  let matched = false;
  for (const key of digests) matched = timingSafeEqual(candidate, key) || matched;
  return matched;
}

/**
 * The middleware: 401 problem+json with `WWW-Authenticate: Bearer` when a
 * protected path is requested without a valid key.
 */
export function apiKey(options: ApiKeyOptions): MiddlewareHandler<ProducerEnv> {
  if (options.keys.length === 0) return (_c, next) => next();
  const digests = Promise.all(options.keys.map(digest));
  return async (c, next) => {
    if (!options.protects(c.req.path)) return next();
    const header = c.req.header("authorization") ?? "";
    const match = /^Bearer +(\S+) *$/i.exec(header);
    if (match && await matchesAny(match[1]!, await digests)) return next();
    return problemFor(c, {
      status: 401,
      kind: "unauthorized",
      detail: match ? "The API key is not valid" : "Send an API key as Authorization: Bearer <key>",
      headers: { "www-authenticate": 'Bearer realm="payments"' },
    });
  };
}
