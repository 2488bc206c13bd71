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
    return problemFor(c, {
      status: 415,
      kind: "unsupported-media-type",
      detail: "Send the body as JSON with Content-Type: application/json",
    });
  };
}

/** 413 problem+json when the body exceeds `maxBytes`. */
export function limitBody(maxBytes: number): MiddlewareHandler<ProducerEnv> {
  return bodyLimit({
    maxSize: maxBytes,
    onError: (c) =>
      problemFor(c, {
        status: 413,
        kind: "body-too-large",
        detail: `The request body exceeds ${maxBytes} bytes`,
        extensions: { max_bytes: maxBytes },
      }),
  }) as MiddlewareHandler<ProducerEnv>;
}
