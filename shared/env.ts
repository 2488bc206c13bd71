/**
 * Turning an environment (a plain record of strings) into typed configuration
 * with one error that names every bad variable.
 *
 * @module
 */
import { z } from "zod";

/** An environment as `Deno.env.toObject()` returns it. */
export type Env = Readonly<Record<string, string | undefined>>;

/** Invalid configuration; the message names every offending variable. */
export class ConfigError extends Error {
  override name = "ConfigError";
  /** Never retriable: the process must be restarted with other settings. */
  readonly retriable = false;
  constructor(readonly problems: string[]) {
    super(`Invalid configuration: ${problems.join("; ")}`);
  }
}

/**
 * Parses `env` with a zod object schema whose keys are variable names, so each
 * issue's path is the variable to blame. Values of variables whose name matches
 * `secret` are never echoed in the message.
 *
 * @example
 * ```ts
 * const schema = z.object({ PORT: z.coerce.number().int().default(8000) });
 * parseEnv(schema, { PORT: "80" }); // { PORT: 80 }
 * ```
 */
export function parseEnv<S extends z.ZodType>(schema: S, env: Env): z.output<S> {
  // Empty strings mean "unset" in .env files and compose interpolation.
  const cleaned = Object.fromEntries(
    Object.entries(env).filter(([, value]) => value !== undefined && value.trim() !== ""),
  );
  const result = schema.safeParse(cleaned);
  if (result.success) return result.data;
  throw new ConfigError(result.error.issues.map((issue) => {
    const variable = issue.path.join(".") || "environment";
    return `${variable}: ${issue.message}`;
  }));
}

/** A TCP port, given as a decimal string. */
export const portVar = z.coerce.number().int().min(1).max(65535);

/** A positive integer of milliseconds, given as a decimal string. */
export const millisVar = z.coerce.number().int().positive();

/** A comma-separated list, trimmed, empty items dropped. */
export const listVar = z.string().transform((value) =>
  value.split(",").map((item) => item.trim()).filter((item) => item.length > 0)
);

/** A boolean given as true/false/1/0/yes/no (any case). */
export const boolVar = z.string().trim().toLowerCase().pipe(
  z.enum(["true", "false", "1", "0", "yes", "no"]),
).transform((value) => value === "true" || value === "1" || value === "yes");

/**
 * Runs several configuration loaders and reports the problems of all of them in one
 * {@linkcode ConfigError}, so a service names every bad variable at once.
 *
 * @example
 * ```ts
 * const [shared, own] = loadAll(() => loadSharedConfig(env), () => parseEnv(schema, env));
 * ```
 */
export function loadAll<T extends unknown[]>(
  ...loaders: { [K in keyof T]: () => T[K] }
): T {
  const problems: string[] = [];
  const results = loaders.map((load) => {
    try {
      return load();
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      problems.push(...error.problems);
      return undefined;
    }
  });
  if (problems.length > 0) throw new ConfigError(problems);
  return results as T;
}

const DURATION_UNITS_MS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/**
 * A duration such as `7d`, `24h`, `30m`, `90s` or `500ms`, in milliseconds. A bare
 * number is refused: "7" could mean days or milliseconds, and guessing wrong would
 * silently change how long something is kept.
 */
export const durationVar = z.string().trim().transform((value, ctx) => {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(value);
  const ms = match ? Math.round(Number(match[1]) * DURATION_UNITS_MS[match[2]!]!) : NaN;
  if (!(ms > 0)) {
    ctx.addIssue({
      code: "custom",
      message: `"${value}" is not a duration such as 7d, 24h, 30m, 90s or 500ms`,
    });
    return z.NEVER;
  }
  return ms;
});
