/**
 * Watches the consumer (one or several instances of one group) drain a pre-filled
 * requests topic through both of its stages, polled every 100 ms: the payment tasks'
 * committed offsets on `payment_requests`, then the results the instances committed
 * (`payment_results_total` summed over their `/metrics`: the customer tasks' offsets on
 * the repartition topic can stay behind aborted transactions at its end). The rate runs
 * from the first committed progress to the last result (start-up and the group join
 * not counted); the CPU of every instance is taken over the same window.
 *
 * @module
 */
import { Kafka, logLevel } from "kafkajs";
import type { TopicNames } from "@payments/shared/topics";
import { type CpuClock, type CpuSpan, startCpuSpan } from "./process_cpu.ts";

/** Options of {@linkcode observePipelineDrain}. */
export interface PipelineDrainOptions {
  brokers: string[];
  groupId: string;
  topics: Pick<TopicNames, "requests" | "byCustomer">;
  /** Input records to wait for. */
  expected: number;
  /** CPU clocks of the consumer instances. */
  cpus?: CpuClock[];
  /** Base URLs of the consumer instances (their `/metrics` count the results). */
  urls: string[];
  /** Why the drain cannot finish (an instance exited), checked each poll. */
  failure?: () => string | undefined;
  stallMs?: number;
}

/** What a drain took. */
export interface PipelineDrain {
  records: number;
  seconds: number;
  recordsPerSec: number;
  /** CPU of each instance over the window. */
  cpu: CpuSpan[];
}

const POLL_MS = 100;

/** Polls until both stages have committed every input. */
export async function observePipelineDrain(options: PipelineDrainOptions): Promise<PipelineDrain> {
  const admin = new Kafka({
    clientId: "bench-pipeline-drain",
    brokers: options.brokers,
    logLevel: logLevel.NOTHING,
  }).admin();
  await admin.connect();
  const committed = async (topic: string) => {
    const [offsets] = await admin.fetchOffsets({ groupId: options.groupId, topics: [topic] });
    return new Map((offsets?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
  };
  const results = async () => {
    let n = 0;
    for (const url of options.urls) {
      const text = await (await fetch(`${url}/metrics`)).text();
      for (const m of text.matchAll(/^payment_results_total\{[^}]*\} ([0-9.e+]+)$/gm)) {
        n += Number(m[1]);
      }
    }
    return n;
  };
  try {
    const stallMs = options.stallMs ?? 120_000;
    let first: number | undefined;
    let spans: { stop(): Promise<CpuSpan> }[] = [];
    let progressAt = performance.now();
    let claimed = 0;
    for (;;) {
      const failure = options.failure?.();
      if (failure) throw new Error(`drained ${claimed} of ${options.expected}: ${failure}`);
      if (performance.now() - progressAt > stallMs) {
        throw new Error(
          `drained ${claimed} of ${options.expected}, no progress for ${stallMs / 1000} s`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      let now: number;
      try {
        now = [...(await committed(options.topics.requests)).values()]
          .reduce((s, o) => s + Math.max(0, o), 0);
      } catch (error) {
        if ((error as { retriable?: boolean }).retriable) continue;
        throw error;
      }
      if (now > claimed) progressAt = performance.now();
      claimed = now;
      if (first === undefined && claimed > 0) {
        first = performance.now();
        spans = await Promise.all((options.cpus ?? []).map(startCpuSpan));
      }
      if (claimed >= options.expected && await results() >= options.expected) break;
    }
    const seconds = (performance.now() - first!) / 1000;
    const cpu = await Promise.all(spans.map((s) => s.stop()));
    return { records: options.expected, seconds, recordsPerSec: options.expected / seconds, cpu };
  } finally {
    await admin.disconnect().catch(() => {});
  }
}
