/**
 * Topics in tests through kcat, a client that shares no code with kafkajs (librdkafka,
 * the library of confluent-kafka and most non-Java producers): the one way tests read
 * committed records back (`isolation.level=read_committed`) and the one way they write
 * records as another producer would (any compression codec, null values).
 *
 * @module
 */
import { runTool } from "./tool.ts";

/**
 * A record for {@linkcode produceWithKcat}: neither part may hold a tab or a newline; a
 * `null` value is written as a null value (a tombstone), and then no other value of the
 * same call may be empty (kcat's `-Z` makes every empty value null).
 */
export interface KcatRecord {
  key: string;
  value: string | null;
}

/** How {@linkcode produceWithKcat} writes. */
export interface KcatProduceOptions {
  /** librdkafka's `compression.codec` (default none). */
  compression?: "none" | "gzip" | "snappy" | "lz4" | "zstd";
  /** Partition of every record (default: librdkafka's partitioner on the key). */
  partition?: number;
  /** Headers on every record. */
  headers?: Record<string, string>;
  /** `linger.ms`: records sent within it share one (compressed) batch (default 50). */
  lingerMs?: number;
}

/**
 * Writes `records` to `topic` with kcat (`acks=all`), in batches compressed as asked:
 * what a librdkafka producer (confluent-kafka, the lab's) puts on the wire.
 */
export async function produceWithKcat(
  bootstrap: string,
  topic: string,
  records: KcatRecord[],
  options: KcatProduceOptions = {},
): Promise<void> {
  const args = [
    "-P",
    "-b",
    bootstrap,
    "-t",
    topic,
    "-K",
    "\t",
    "-z",
    options.compression ?? "none",
  ];
  args.push("-X", `linger.ms=${options.lingerMs ?? 50}`, "-X", "acks=all");
  if (options.partition !== undefined) args.push("-p", String(options.partition));
  for (const [name, value] of Object.entries(options.headers ?? {})) {
    args.push("-H", `${name}=${value}`);
  }
  if (records.some((r) => r.value === null)) {
    if (records.some((r) => r.value === "")) {
      throw new Error("produceWithKcat cannot write an empty value beside a null one (kcat -Z)");
    }
    args.push("-Z");
  }
  const stdin = records.map(({ key, value }) => `${key}\t${value ?? ""}\n`).join("");
  const { success, stderr } = await runTool("kcat", args, { stdin });
  if (!success) throw new Error(`kcat could not write to ${topic}: ${stderr}`);
}

/** One record as kcat's `-J` envelope reports it. */
export interface TopicRecord {
  topic: string;
  partition: number;
  offset: number;
  key: string | null;
  payload: string | null;
  headers: Record<string, string>;
}

/** Every committed record of `topic` from the beginning (kcat `-e`, read_committed). */
export async function readCommitted(bootstrap: string, topic: string): Promise<TopicRecord[]> {
  const { success, stdout, stderr } = await runTool("kcat", [
    "-C",
    "-b",
    bootstrap,
    "-t",
    topic,
    "-o",
    "beginning",
    "-e",
    "-J",
    "-q",
    "-X",
    "isolation.level=read_committed",
  ]);
  if (!success) throw new Error(`kcat could not read ${topic}: ${stderr}`);
  return stdout.split("\n").filter((l) => l.trim()).map((line) => {
    const raw = JSON.parse(line) as Omit<TopicRecord, "headers"> & { headers?: string[] };
    const headers: Record<string, string> = {};
    for (let i = 0; i + 1 < (raw.headers?.length ?? 0); i += 2) {
      headers[raw.headers![i]!] = raw.headers![i + 1]!;
    }
    return { ...raw, headers };
  });
}
