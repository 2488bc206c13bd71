/**
 * What a consume-transform-produce run left in Kafka, checked and counted once it is
 * done: its results judged against its inputs ({@linkcode resultVerdict}), and the
 * records it wrote per input, results and state changelogs alike, with the
 * transaction markers apart (they take an offset each but carry no record).
 *
 * @module
 */
import { recordsHeld } from "@payments/stack/topics";
import { readTopic } from "./topic_read.ts";
import { type KeyedRecord, resultVerdict, type Verdict } from "./verdict.ts";

/** Options of {@linkcode checkLoopOutput}. */
export interface LoopOutputOptions {
  /** The input records, read back once for every loop that drains them. */
  inputs: KeyedRecord[];
  /** A topic only this run wrote its results to. */
  resultsTopic: string;
  /** Other topics only this run wrote to (a state store's changelog), with the records expected. */
  stateTopics?: Array<{ topic: string; expected: number }>;
  /** The outcome rules give a first occurrence, when the loop applies rules. */
  decide?: (value: string) => string;
}

/** The check and the write counts of one run. */
export interface LoopOutput {
  verdict: Verdict;
  /** Records written per input, and transaction markers per input. */
  writtenPerInput: { records: number; markers: number };
}

/** Reads the run's output topics back and judges them. */
export async function checkLoopOutput(
  brokers: string[],
  options: LoopOutputOptions,
): Promise<LoopOutput> {
  const { inputs } = options;
  const results = await readTopic(brokers, options.resultsTopic, { expected: inputs.length });
  const verdict = resultVerdict(inputs, results, options.decide);
  let records = results.length;
  let offsets = await recordsHeld(brokers, options.resultsTopic);
  for (const { topic, expected } of options.stateTopics ?? []) {
    records += (await readTopic(brokers, topic, { expected })).length;
    offsets += await recordsHeld(brokers, topic);
  }
  const per = (n: number) => (inputs.length > 0 ? n / inputs.length : NaN);
  return { verdict, writtenPerInput: { records: per(records), markers: per(offsets - records) } };
}
