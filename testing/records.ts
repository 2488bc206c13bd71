/**
 * Reading topics back in tests with kcat, a client that shares no code with kafkajs:
 * committed records only (`isolation.level=read_committed`), and end offsets.
 *
 * @module
 */
import { Kafka, logLevel } from "kafkajs";
import { muteKafkajsTimeoutWarning } from "@payments/shared/kafkajs_quiet";

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
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command("kcat", {
      args: [
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
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
  } catch (error) {
    throw new Error("kcat is missing: install it with `apt-get install kcat`", { cause: error });
  }
  if (!out.success) {
    throw new Error(`kcat could not read ${topic}: ${new TextDecoder().decode(out.stderr)}`);
  }
  return new TextDecoder().decode(out.stdout).split("\n").filter((l) => l.trim()).map((line) => {
    const raw = JSON.parse(line) as Omit<TopicRecord, "headers"> & { headers?: string[] };
    const headers: Record<string, string> = {};
    for (let i = 0; i + 1 < (raw.headers?.length ?? 0); i += 2) {
      headers[raw.headers![i]!] = raw.headers![i + 1]!;
    }
    return { ...raw, headers };
  });
}

/** Sum of the end offsets of `topic`'s partitions. */
export async function endOffsets(brokers: string[], topic: string): Promise<number> {
  muteKafkajsTimeoutWarning();
  const admin = new Kafka({ clientId: "test-offsets", brokers, logLevel: logLevel.NOTHING })
    .admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.reduce((sum, o) => sum + Number(o.high), 0);
  } finally {
    await admin.disconnect();
  }
}
