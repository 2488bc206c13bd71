/**
 * Recognises the producer's own end-to-end probe (`../probe/`) among the requests: the
 * probe sends {@linkcode PROBE_HEADER} with a token made at start and known to nobody
 * else. A probe request may use the probe's reserved ids (`reserved_ids.ts`) and is left
 * out of every metric and statistic of the API (HTTP counts and durations, payments
 * produced, batch sizes, sheds, `/stats`): the probe counts itself
 * (`pipeline_probe_*`), and business figures and SLO ratios see only clients.
 *
 * @module
 */
import type { MiddlewareHandler } from "hono";
import { timingSafeEqual } from "node:crypto";
import type { ProducerEnv } from "../context.ts";

/** The request header carrying the probe's token. */
export const PROBE_HEADER = "x-pipeline-probe";

const encoder = new TextEncoder();

/** Marks a request carrying `token` as the probe's (`c.get("probe")`); no token, no probe. */
export function recognizeProbe(token: string | undefined): MiddlewareHandler<ProducerEnv> {
  if (!token) return (_c, next) => next();
  const expected = encoder.encode(token);
  return async (c, next) => {
    const offered = encoder.encode(c.req.header(PROBE_HEADER) ?? "");
    // Constant time: the token guards the metrics' honesty, so leak nothing of it.
    if (offered.length === expected.length && timingSafeEqual(offered, expected)) {
      c.set("probe", true);
    }
    await next();
  };
}
