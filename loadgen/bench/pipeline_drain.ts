/**
 * Watches the consumer (one or several instances of one group) drain a pre-filled
 * requests topic through both of its stages: the payment tasks' committed offsets on
 * `payment_requests` and then the customer tasks' on `payment_requests.by_customer`,
 * polled every 100 ms. The rate runs from the first committed progress to the moment
 * the last forward was decided (start-up and the group join not counted); the CPU of
 * every instance is taken over the same window.
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
  // Once every payment task committed, each repartition partition ends with a commit
  // marker: the customer tasks are done when they committed up to it.
  const forwardsLeft = async () => {
    const [done, ends] = await Promise.all([
      committed(options.topics.byCustomer),
      admin.fetchTopicOffsets(options.topics.byCustomer),
    ]);
    return ends.reduce(
      (n, e) => n + Math.max(0, Number(e.high) - 1 - Math.max(0, done.get(e.partition) ?? 0)),
      0,
    );
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
      if (claimed >= options.expected && await forwardsLeft() === 0) break;
    }
    const seconds = (performance.now() - first!) / 1000;
    const cpu = await Promise.all(spans.map((s) => s.stop()));
    return { records: options.expected, seconds, recordsPerSec: options.expected / seconds, cpu };
  } finally {
    await admin.disconnect().catch(() => {});
  }
}
