/**
 * Polling for the live tests: conditions on real services that become true "soon", with
 * a generous deadline and a failure that names what never held. Never a timing claim.
 *
 * @module
 */

/**
 * Polls until every condition holds or `timeoutMs` passes; then throws naming the
 * conditions that never held, followed by `context()` (the services' last log lines).
 *
 * @example
 * ```ts
 * await waitFor({ "Prometheus has a sample": async () => (await p.query("up")).result.length > 0 },
 *   30_000, () => p.tail());
 * ```
 */
export async function waitFor(
  conditions: Record<string, () => Promise<boolean>>,
  timeoutMs: number,
  context: () => string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let pending = Object.keys(conditions);
  while (pending.length > 0) {
    const checks = await Promise.all(pending.map((name) => conditions[name]!()));
    pending = pending.filter((_, i) => !checks[i]);
    if (pending.length === 0) return;
    if (Date.now() > deadline) {
      throw new Error(`Not met within ${timeoutMs} ms: ${pending.join("; ")}\n${context()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

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
