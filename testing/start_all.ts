/**
 * Starting several servers of a test at once (services, Prometheus, Alertmanager) without
 * leaking the ones that did start when another failed.
 *
 * @module
 */

/** Starts everything in parallel; stops what did start when anything failed. */
export async function startAll<T extends readonly Promise<AsyncDisposable>[]>(
  starts: T,
): Promise<{ -readonly [K in keyof T]: Awaited<T[K]> }> {
  const settled = await Promise.allSettled(starts);
  const failed = settled.filter((s) => s.status === "rejected");
  if (failed.length > 0) {
    for (const s of settled) if (s.status === "fulfilled") await s.value[Symbol.asyncDispose]();
    throw (failed[0] as PromiseRejectedResult).reason;
  }
  return settled.map((s) => (s as PromiseFulfilledResult<AsyncDisposable>).value) as {
    -readonly [K in keyof T]: Awaited<T[K]>;
  };
}
