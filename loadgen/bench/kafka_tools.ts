/**
 * The machine's ceiling: Kafka's own `ProducerPerformance` and `ConsumerPerformance`
 * tools (from the `kafka-tools` jar the launcher resolves), run with `java -cp`.
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { KAFKA_VERSION } from "@payments/kafka/launcher";

/** Where the launcher caches the Kafka jars, including kafka-tools. */
export const KAFKA_LIB_DIR: string = fileURLToPath(
  new URL(`../../.cache/kafka/${KAFKA_VERSION}/lib`, import.meta.url),
);

/** What a perf tool measured. */
export interface ToolResult {
  records: number;
  recordsPerSec: number;
  mbPerSec: number;
  /** Producer only: latency percentiles in ms as the tool reports them. */
  p50Ms?: number;
  p99Ms?: number;
}

/**
 * Parses ProducerPerformance's summary line:
 * `100000 records sent, 87950.7 records/sec (27.93 MB/sec), 603.29 ms avg latency,
 * 903.00 ms max latency, 612 ms 50th, 850 ms 95th, 890 ms 99th, 901 ms 99.9th.`
 */
export function parseProducerPerformance(output: string): ToolResult {
  const line = output.split("\n").reverse().find((l) => /records sent,.*50th/.test(l));
  const m = line &&
    /(\d+) records sent, ([\d.]+) records\/sec \(([\d.]+) MB\/sec\).*?(\d+) ms 50th.*?(\d+) ms 99th/
      .exec(line);
  if (!m) throw new Error(`Cannot read ProducerPerformance output:\n${output.slice(-800)}`);
  return {
    records: Number(m[1]),
    recordsPerSec: Number(m[2]),
    mbPerSec: Number(m[3]),
    p50Ms: Number(m[4]),
    p99Ms: Number(m[5]),
  };
}

/**
 * Parses ConsumerPerformance's CSV-like output (a header line naming the columns and
 * one line of values); uses `fetch.nMsg.sec`, the rate without the group join.
 */
export function parseConsumerPerformance(output: string): ToolResult {
  const lines = output.split("\n").map((l) => l.trim()).filter((l) => l.length > 0);
  const headerAt = lines.findIndex((l) => l.startsWith("start.time"));
  const header = lines[headerAt]?.split(",").map((c) => c.trim());
  const values = lines[headerAt + 1]?.split(",").map((c) => c.trim());
  if (headerAt < 0 || !header || !values) {
    throw new Error(`Cannot read ConsumerPerformance output:\n${output.slice(-800)}`);
  }
  const column = (name: string) => {
    const i = header.indexOf(name);
    const v = i < 0 ? NaN : Number(values[i]);
    if (!Number.isFinite(v)) {
      throw new Error(`ConsumerPerformance output lacks ${name}:\n${output}`);
    }
    return v;
  };
  return {
    records: column("data.consumed.in.nMsg"),
    recordsPerSec: column("fetch.nMsg.sec"),
    mbPerSec: column("fetch.MB.sec"),
  };
}

async function java(mainClass: string, args: string[]): Promise<string> {
  const out = await new Deno.Command("java", {
    args: ["-Xmx512m", "-cp", `${KAFKA_LIB_DIR}/*`, mainClass, ...args],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  if (!out.success) {
    throw new Error(`${mainClass} exited with code ${out.code}:\n${text.slice(-1500)}`);
  }
  return text;
}

/** Whether the kafka-tools jar is in the cache. */
export async function kafkaToolsAvailable(): Promise<boolean> {
  try {
    for await (const entry of Deno.readDir(KAFKA_LIB_DIR)) {
      if (entry.name.startsWith("kafka-tools-")) return true;
    }
  } catch { /* no cache yet */ }
  return false;
}

/** Writes `records` records of `recordSize` bytes as fast as the broker takes them (acks=all). */
export async function producerPerformance(
  bootstrap: string,
  topic: string,
  records: number,
  recordSize: number,
): Promise<ToolResult> {
  return parseProducerPerformance(
    await java("org.apache.kafka.tools.ProducerPerformance", [
      "--topic",
      topic,
      "--num-records",
      String(records),
      "--record-size",
      String(recordSize),
      "--throughput",
      "-1",
      "--producer-props",
      `bootstrap.servers=${bootstrap}`,
      "acks=all",
      "enable.idempotence=true",
    ]),
  );
}

/** Reads `records` records of `topic` from the beginning with a fresh group. */
export async function consumerPerformance(
  bootstrap: string,
  topic: string,
  records: number,
): Promise<ToolResult> {
  return parseConsumerPerformance(
    await java("org.apache.kafka.tools.ConsumerPerformance", [
      "--bootstrap-server",
      bootstrap,
      "--topic",
      topic,
      "--messages",
      String(records),
      "--group",
      `bench-perf-${crypto.randomUUID().slice(0, 8)}`,
      "--timeout",
      "30000",
    ]),
  );
}
