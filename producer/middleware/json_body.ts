/**
 * Guards of JSON request bodies: 415 unless the content type is JSON, 413 when
 * the body is larger than the limit (declared or streamed).
 *
 * @module
 */
import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { problemFor, type ProducerEnv } from "../context.ts";

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;

/** 415 problem+json unless `content-type` is `application/json` or `application/*+json`. */
export function requireJson(): MiddlewareHandler<ProducerEnv> {
  return async (c, next) => {
    const type = c.req.header("content-type") ?? "";
    if (JSON_TYPE.test(type.trim())) return await next();
    return problemFor(
      c,
      415,
      "unsupported-media-type",
      "Send the body as JSON with Content-Type: application/json",
    );
  };
}

/** 413 problem+json when the body exceeds `maxBytes`. */
export function limitBody(maxBytes: number): MiddlewareHandler<ProducerEnv> {
  return bodyLimit({
    maxSize: maxBytes,
    onError: (c) =>
      problemFor(c, 413, "body-too-large", `The request body exceeds ${maxBytes} bytes`, {
        max_bytes: maxBytes,
      }),
  }) as MiddlewareHandler<ProducerEnv>;
}
