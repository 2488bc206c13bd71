/**
 * Watches another process drain a pre-filled topic through its consumer group's
 * committed offsets, polled every 100 ms: the rate from the first committed progress
 * to the last record, so start-up and the group join are not counted, and (given the
 * process' CPU clock) the CPU it used over that same window.
 *
 * @module
 */
import { Kafka, logLevel } from "kafkajs";
import { type CpuClock, type CpuSpan, startCpuSpan } from "./process_cpu.ts";

/** Options of {@linkcode observeDrain}. */
export interface DrainOptions {
  brokers: string[];
  /** The draining application's consumer group (a Kafka Streams application id). */
  groupId: string;
  topic: string;
  /** Records to wait for. */
  expected: number;
  /** CPU clock of the draining process, read at the first and the last progress. */
  cpu?: CpuClock;
  /** Why the drain cannot finish (its process exited, with its output), checked each poll. */
  failure?: () => string | undefined;
  /** Milliseconds without progress before giving up (default 60 000). */
  stallMs?: number;
}

/** What a drain took, over the window from its first committed progress to its end. */
export interface Drain {
  /** Records committed inside the window (the first poll's progress is before it). */
  records: number;
  seconds: number;
  recordsPerSec: number;
  /** CPU the process used over the same window, when a clock was given. */
  cpu?: CpuSpan;
}

const POLL_MS = 100;

/** Polls until `expected` records of `topic` are committed by `groupId`. */
export async function observeDrain(options: DrainOptions): Promise<Drain> {
  const admin = new Kafka({
    clientId: "bench-drain",
    brokers: options.brokers,
    logLevel: logLevel.NOTHING,
  }).admin();
  await admin.connect();
  try {
    const committed = async () => {
      const [offsets] = await admin.fetchOffsets({
        groupId: options.groupId,
        topics: [options.topic],
      });
      return (offsets?.partitions ?? []).reduce((s, p) => s + Math.max(0, Number(p.offset)), 0);
    };
    const stallMs = options.stallMs ?? 60_000;
    let first: { at: number; done: number } | undefined;
    let span: Awaited<ReturnType<typeof startCpuSpan>> | undefined;
    let last = { at: performance.now(), done: 0 };
    let progressAt = last.at;
    while (last.done < options.expected) {
      const failure = options.failure?.();
      if (failure) throw new Error(`drained ${last.done} of ${options.expected}: ${failure}`);
      if (performance.now() - progressAt > stallMs) {
        throw new Error(
          `drained ${last.done} of ${options.expected}, no progress for ${stallMs / 1000} s`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      let done: number;
      try {
        done = await committed();
      } catch (error) {
        // A fresh broker's group coordinator answers "loading" for a while: no progress
        // yet, as far as this poll can tell; the stall deadline bounds the wait.
        if ((error as { retriable?: boolean }).retriable) continue;
        throw error;
      }
      const at = performance.now();
      if (done > last.done) progressAt = at;
      last = { at, done };
      if (!first && done > 0) {
        first = last;
        if (options.cpu) span = await startCpuSpan(options.cpu);
      }
    }
    const cpu = await span?.stop();
    const records = last.done - (first?.done ?? 0);
    const seconds = first ? (last.at - first.at) / 1000 : 0;
    return {
      records,
      seconds,
      recordsPerSec: seconds > 0 ? records / seconds : 0,
      ...(cpu ? { cpu } : {}),
    };
  } finally {
    await admin.disconnect().catch(() => {});
  }
}
