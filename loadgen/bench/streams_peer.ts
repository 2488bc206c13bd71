/**
 * Runs the Kafka Streams peer (`streams_peer/`, built by `streams_peer_build.ts`) on a
 * pre-filled topic: a fresh application id, a fresh RocksDB state directory, one JVM
 * (`-Xmx512m`, as the perf tools run). Its drain is watched through the application's
 * committed offsets, its CPU read from `/proc/<pid>/stat` over the same window; then it
 * is stopped, and its internal topics and group are deleted.
 *
 * @module
 */
import { Kafka, logLevel } from "kafkajs";
import { type Drain, observeDrain } from "./drain.ts";
import { PEER_RULES, peerRulesArgs } from "./peer_rules.ts";
import { procCpuClock } from "./process_cpu.ts";
import { ensureStreamsPeer, STREAMS_PEER_MAIN } from "./streams_peer_build.ts";

/** Options of {@linkcode runStreamsPeer}. */
export interface StreamsPeerOptions {
  brokers: string[];
  requestsTopic: string;
  resultsTopic: string;
  /** Records the requests topic holds. */
  expected: number;
  log(line: string): void;
}

/** A finished run: its drain and the changelog topic its store wrote. */
export interface StreamsPeerRun {
  drain: Drain;
  applicationId: string;
  changelogTopic: string;
}

/** Kafka Streams names a logged store's changelog `<application id>-<store>-changelog`. */
const STORE = "decided-payments";

/** Runs the peer until it has committed `expected` records, then stops it. */
export async function runStreamsPeer(options: StreamsPeerOptions): Promise<StreamsPeerRun> {
  const classpath = await ensureStreamsPeer({ log: options.log });
  const applicationId = `bench-streams-${crypto.randomUUID().slice(0, 8)}`;
  const stateDir = await Deno.makeTempDir({ prefix: "bench-streams-state-" });
  const child = new Deno.Command("java", {
    args: [
      "-Xmx512m",
      "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
      "-cp",
      classpath,
      STREAMS_PEER_MAIN,
      `bootstrap=${options.brokers.join(",")}`,
      `application-id=${applicationId}`,
      `state-dir=${stateDir}`,
      `requests=${options.requestsTopic}`,
      `results=${options.resultsTopic}`,
      ...peerRulesArgs(PEER_RULES),
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const output = keepOutput(child);
  let exitCode: number | undefined;
  const exited = child.status.then((s) => (exitCode = s.code));
  try {
    const drain = await observeDrain({
      brokers: options.brokers,
      groupId: applicationId,
      topic: options.requestsTopic,
      expected: options.expected,
      cpu: procCpuClock(child.pid),
      failure: () =>
        exitCode === undefined
          ? undefined
          : `the Kafka Streams peer exited with code ${exitCode}:\n${output.tail()}`,
    });
    return { drain, applicationId, changelogTopic: `${applicationId}-${STORE}-changelog` };
  } finally {
    await stop(child, exited);
    await Deno.remove(stateDir, { recursive: true }).catch(() => {});
  }
}

/** Deletes what the peer's run left on the broker: its changelog topic and its group. */
export async function cleanUpStreamsPeer(brokers: string[], run: StreamsPeerRun): Promise<void> {
  const admin = new Kafka({ clientId: "bench-streams", brokers, logLevel: logLevel.NOTHING })
    .admin();
  await admin.connect();
  try {
    await admin.deleteTopics({ topics: [run.changelogTopic] }).catch(() => {});
    await admin.deleteGroups([run.applicationId]).catch(() => {});
  } finally {
    await admin.disconnect();
  }
}

/** SIGTERM (the peer closes Kafka Streams cleanly), SIGKILL after 30 s. */
async function stop(child: Deno.ChildProcess, exited: Promise<unknown>): Promise<void> {
  const kill = (signal: Deno.Signal) => {
    try {
      child.kill(signal);
    } catch { /* already gone */ }
  };
  kill("SIGTERM");
  const timer = setTimeout(() => kill("SIGKILL"), 30_000);
  try {
    await exited;
  } finally {
    clearTimeout(timer);
  }
}

/** Reads the peer's stdout and stderr as they come (a full pipe would block it). */
function keepOutput(child: Deno.ChildProcess): { tail(): string } {
  const lines: string[] = [];
  const keep = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      lines.push(...chunk.split("\n").filter((l) => l.length > 0));
      if (lines.length > 200) lines.splice(0, lines.length - 200);
    }
  };
  keep(child.stdout).catch(() => {});
  keep(child.stderr).catch(() => {});
  return { tail: () => lines.slice(-20).join("\n") };
}
