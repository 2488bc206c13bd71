/**
 * The `codecs` section of `deno task bench`: our producer over HTTP once per
 * `KAFKA_COMPRESSION` value, so the default codec is chosen by measurement. Each row
 * gives the accepted payments/s; its note the bytes per payment the broker stores
 * (Kafka's own LogDirsCommand) and the producer's CPU per 1000 payments.
 *
 * @module
 */
import { KAFKA_COMPRESSIONS, type KafkaCompression } from "@payments/shared/kafka_codecs";
import { metricValue } from "@payments/shared/metrics";
import type { TopicNames } from "@payments/shared/topics";
import { topicBytesOnDisk } from "@payments/kafka/log_dirs";
import { startService } from "@payments/stack/services";
import { freePort } from "@payments/kafka/ports";
import { recordsHeld } from "@payments/stack/topics";
import type { Plan } from "./plan.ts";
import { loadOptions } from "./support.ts";
import type { BenchRow } from "./table.ts";
import { runLoad } from "../run.ts";

/** Request shapes measured per codec: single payments (the producer coalesces them into
 * small batches) and batches of 100. */
export const CODEC_SHAPES = [
  { batch: 1, concurrency: 8 },
  { batch: 100, concurrency: 4 },
] as const;

/** What {@linkcode codecRows} needs from the bench. */
export interface CodecBenchDeps {
  brokers: string[];
  plan: Plan;
  /** Extra producer environment (`--producer-env`); KAFKA_COMPRESSION is set per row. */
  producerEnv: Record<string, string>;
  /** Creates a fresh topic set the bench deletes at the end. */
  topicsFor(prefix: string): Promise<TopicNames>;
  log(line: string): void;
}

/** What one codec measured at one request shape. */
export interface CodecFigures {
  codec: KafkaCompression;
  batch: number;
  paymentsPerSec: number;
  bytesPerPayment: number;
  cpuMsPer1000: number;
}

const perThousand = (seconds: number, payments: number) =>
  payments > 0 ? seconds * 1000 / (payments / 1000) : 0;

async function cpuSeconds(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
  return metricValue(text, "process_cpu_seconds_total") ?? NaN;
}

/** Measures every codec at every shape; a codec that fails gives error rows, not a crash. */
export async function codecRows(deps: CodecBenchDeps): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const figures: CodecFigures[] = [];
  const bootstrap = deps.brokers[0]!;
  for (const codec of KAFKA_COMPRESSIONS) {
    try {
      const topics = await deps.topicsFor(`bench-codec-${codec}`);
      deps.log(`codec ${codec}: starting the producer`);
      await using producer = await startService("producer", {
        port: freePort("127.0.0.1"),
        brokers: deps.brokers,
        topics,
        env: { ...deps.producerEnv, KAFKA_COMPRESSION: codec, LAG_MONITOR_ENABLED: "false" },
      });
      let bytesBefore = 0;
      let recordsBefore = 0;
      for (const { batch, concurrency } of CODEC_SHAPES) {
        deps.log(`codec ${codec}: HTTP batch ${batch}, concurrency ${concurrency}`);
        const shape = { url: producer.url, batchSize: batch, concurrency };
        await runLoad(loadOptions({ ...shape, durationMs: deps.plan.warmupMs }));
        const cpuBefore = await cpuSeconds(producer.url);
        const report = await runLoad(loadOptions({ ...shape, durationMs: deps.plan.httpMs }));
        const cpu = await cpuSeconds(producer.url) - cpuBefore;
        const records = await recordsHeld(deps.brokers, topics.requests);
        const bytes = (await topicBytesOnDisk(bootstrap, [topics.requests])).get(topics.requests)!;
        const bytesPerPayment = (bytes - bytesBefore) / Math.max(1, records - recordsBefore);
        bytesBefore = bytes;
        recordsBefore = records;
        figures.push({
          codec,
          batch,
          paymentsPerSec: report.rates.accepted,
          bytesPerPayment,
          cpuMsPer1000: perThousand(cpu, report.payments.accepted),
        });
      }
    } catch (error) {
      const message = (error as Error).message.split("\n")[0]!;
      deps.log(`codec ${codec} failed: ${(error as Error).message}`);
      for (const { batch, concurrency } of CODEC_SHAPES) {
        rows.push({
          group: "codecs",
          name: codecRowName(codec, batch, concurrency),
          value: 0,
          unit: "payments/s",
          error: message,
        });
      }
    }
  }
  for (const f of figures) {
    const plain = figures.find((p) => p.codec === "none" && p.batch === f.batch);
    const shape = CODEC_SHAPES.find((s) => s.batch === f.batch)!;
    rows.push({
      group: "codecs",
      name: codecRowName(f.codec, f.batch, shape.concurrency),
      value: f.paymentsPerSec,
      unit: "payments/s",
      ...(plain && f.codec !== "none"
        ? { ceiling: { name: "KAFKA_COMPRESSION=none", value: plain.paymentsPerSec } }
        : {}),
      ...(plain && f.codec !== "none" && plain.paymentsPerSec > 0
        ? { ratio: f.paymentsPerSec / plain.paymentsPerSec }
        : {}),
      note: codecNote(f, plain),
    });
  }
  return rows;
}

/** The row name of one codec and shape. */
export function codecRowName(codec: KafkaCompression, batch: number, concurrency: number): string {
  return `producer KAFKA_COMPRESSION=${codec}, HTTP batch ${batch}, concurrency ${concurrency}`;
}

/** `103 B/payment on disk (25% of none), producer CPU 180 ms per 1000 payments`. */
export function codecNote(f: CodecFigures, plain: CodecFigures | undefined): string {
  const share = plain && f.codec !== "none" && plain.bytesPerPayment > 0
    ? ` (${Math.round(f.bytesPerPayment / plain.bytesPerPayment * 100)}% of none)`
    : "";
  return `${Math.round(f.bytesPerPayment)} B/payment on disk${share}, producer CPU ` +
    `${Math.round(f.cpuMsPer1000)} ms per 1000 payments`;
}
