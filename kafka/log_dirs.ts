/**
 * What topics take on the brokers' disks, from Kafka's own `LogDirsCommand` (the
 * kafka-tools jar the launcher caches with the broker's jars): the size of the log
 * segments as the broker stores them, so what a compression codec saves is measured by
 * Kafka itself rather than by the client that compressed.
 *
 * @module
 */
import { join } from "node:path";
import { DEFAULT_CACHE_DIR, KAFKA_VERSION } from "./jars.ts";

const LIB_DIR = join(DEFAULT_CACHE_DIR, KAFKA_VERSION, "lib");

interface LogDirsReport {
  brokers: { logDirs: { partitions: { partition: string; size: number }[] }[] }[];
}

/**
 * Bytes on disk of each of `topics` (all partitions, all brokers). A topic the brokers
 * do not report counts 0.
 *
 * @example
 * ```ts
 * const sizes = await topicBytesOnDisk("127.0.0.1:9092", ["payment_requests"]);
 * sizes.get("payment_requests"); // e.g. 1048576
 * ```
 */
export async function topicBytesOnDisk(
  bootstrap: string,
  topics: string[],
): Promise<Map<string, number>> {
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command("java", {
      args: [
        "-Xmx256m",
        "-cp",
        `${LIB_DIR}/*`,
        "org.apache.kafka.tools.LogDirsCommand",
        "--bootstrap-server",
        bootstrap,
        "--describe",
        "--topic-list",
        topics.join(","),
      ],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
  } catch (error) {
    throw new Error("java is missing: install it with `apt-get install openjdk-17-jdk-headless`", {
      cause: error,
    });
  }
  const text = new TextDecoder().decode(out.stdout);
  const json = text.split("\n").find((line) => line.startsWith("{"));
  if (!out.success || !json) {
    throw new Error(
      `LogDirsCommand could not describe ${topics.join(", ")} (jars in ${LIB_DIR}): ` +
        `${text}${new TextDecoder().decode(out.stderr)}`.slice(-1500),
    );
  }
  const sizes = new Map(topics.map((topic) => [topic, 0]));
  for (const broker of (JSON.parse(json) as LogDirsReport).brokers) {
    for (const dir of broker.logDirs) {
      for (const { partition, size } of dir.partitions) {
        const topic = partition.slice(0, partition.lastIndexOf("-"));
        if (sizes.has(topic)) sizes.set(topic, sizes.get(topic)! + size);
      }
    }
  }
  return sizes;
}
