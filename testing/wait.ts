/**
 * Waiting in tests: conditions on real services and brokers that become true "soon", with
 * a generous deadline and a failure that names what never held, and a deadline on a whole
 * scenario. Never a timing claim.
 *
 * @module
 */
import assert from "node:assert/strict";

/** Options of {@linkcode eventually}. */
export interface EventuallyOptions {
  /** Pause between two checks (default 100 ms). */
  intervalMs?: number;
  /** What to add to the failure (the services' last log lines, the last value seen). */
  context?: () => string;
}

/**
 * Resolves once `predicate` holds, checking it every `intervalMs`; after `timeoutMs` fails
 * (an assertion error) with "`what`: not reached within N ms" and the `context`.
 *
 * @example
 * ```ts
 * await eventually(async () => (await readCommitted(bootstrap, topic)).length >= 10, 30_000,
 *   "ten results", { context: () => consumer.tail() });
 * ```
 */
export async function eventually(
  predicate: () => Promise<boolean> | boolean,
  timeoutMs: number,
  what: string,
  options: EventuallyOptions = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) {
      const context = options.context?.();
      assert.fail(`${what}: not reached within ${timeoutMs} ms${context ? `\n${context}` : ""}`);
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 100));
  }
}

/**
 * {@linkcode eventually} for several named conditions checked together every 500 ms; the
 * failure names the conditions that never held, followed by `context()`.
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
  let pending = Object.keys(conditions);
  await eventually(
    async () => {
      const checks = await Promise.all(pending.map((name) => conditions[name]!()));
      pending = pending.filter((_, i) => !checks[i]);
      return pending.length === 0;
    },
    timeoutMs,
    "conditions",
    { intervalMs: 500, context: () => `not met: ${pending.join("; ")}\n${context()}` },
  );
}

/** Rejects with "`what` timed out after N ms" unless `promise` settles first; clears its timer. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
