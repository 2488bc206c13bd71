/**
 * `/stats`' count of rejected payment requests: every 4xx a payment route answered,
 * whichever middleware or handler answered it.
 *
 * @module
 */
import type { MiddlewareHandler } from "hono";
import type { ProducerEnv } from "../context.ts";
import type { ProducerStats } from "../stats.ts";

/** Counts the request in `stats` when it was answered 4xx (the probe's are its own). */
export function countRejections(
  stats: Pick<ProducerStats, "recordRejected">,
): MiddlewareHandler<ProducerEnv> {
  return async (c, next) => {
    await next();
    if (c.res.status >= 400 && c.res.status < 500 && !c.get("probe")) stats.recordRejected();
  };
}
