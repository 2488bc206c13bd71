// deno-lint-ignore-file no-console
/**
 * What every section of `deno task bench` runs in: the broker, the plan, the services'
 * extra environment, fresh topics, the log, the rows so far; and the helpers the
 * sections share (a row that fails becomes an error row, the services' memory).
 *
 * @module
 */
import type { TopicNames } from "@payments/shared/topics";
import type { ServiceProcess } from "@payments/stack/services";
import type { Plan } from "./plan.ts";
import type { BenchRow } from "./table.ts";

/** One bench run, as the sections see it. */
export interface BenchContext {
  brokers: string[];
  /** The first broker, for tools that take one address. */
  bootstrap: string;
  /** The throw-away broker's JVM, when the bench started one (its CPU per payment). */
  brokerPid?: number;
  plan: Plan;
  /** Extra environment of the services (`--producer-env`, `--consumer-env`). */
  serviceEnv: { producer: Record<string, string>; consumer: Record<string, string> };
  /** Creates a fresh topic set (6 partitions unless told) the bench deletes at the end. */
  topicsFor(prefix: string, partitions?: number): Promise<TopicNames>;
  log(line: string): void;
  /** The table so far; sections push their rows. */
  rows: BenchRow[];
}

/** Prints a progress line of the bench on stderr. */
export const log = (line: string): void => console.error(`bench: ${line}`);

/** A millisecond figure for a note. */
export const ms = (value: number): string => `${value.toFixed(1)} ms`;

const MiB = 1024 * 1024;

/** The services' resident memory now, in MiB (`process_resident_memory_bytes`). */
export async function rss(services: Array<ServiceProcess | undefined>) {
  const [producer, consumer] = await Promise.all(services.map((s) => s?.rss()));
  return {
    ...(producer !== undefined ? { producer: producer / MiB } : {}),
    ...(consumer !== undefined ? { consumer: consumer / MiB } : {}),
  };
}

/** Runs one measurement; a failure becomes an error row named `name`, not a crash. */
export async function guarded(
  ctx: Pick<BenchContext, "rows" | "log">,
  group: string,
  name: string,
  fn: () => Promise<void>,
) {
  try {
    await fn();
  } catch (error) {
    const message = (error as Error).message.split("\n")[0]!;
    ctx.log(`${name} failed: ${(error as Error).message}`);
    ctx.rows.push({ group, name, value: 0, unit: "rec/s", error: message });
  }
}
