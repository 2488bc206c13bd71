/**
 * Reads `deno test` output as it streams, echoing it, and returns the counts of
 * its closing summary line (`ok | 12 passed (3 steps) | 0 failed`).
 *
 * @module
 */

/** Counts from deno test's closing line. */
export interface TestSummary {
  passed: number;
  failed: number;
}

const SUMMARY = /^(?:ok|FAILED) \| (\d+) passed(?: \(\d+ steps?\))? \| (\d+) failed/;

/** Extracts the counts from one line, or undefined when it is not the summary. */
export function parseSummaryLine(line: string): TestSummary | undefined {
  const match = SUMMARY.exec(line.trim());
  return match ? { passed: Number(match[1]), failed: Number(match[2]) } : undefined;
}

/**
 * Streams `output` to `echo` and returns the last summary seen; a run that
 * printed no summary (it crashed) counts as one failure.
 */
export async function summarizeDenoTest(
  output: ReadableStream<Uint8Array>,
  echo: (chunk: Uint8Array) => void,
): Promise<TestSummary> {
  let summary: TestSummary | undefined;
  let pending = "";
  const decoder = new TextDecoder();
  for await (const chunk of output) {
    echo(chunk);
    pending += decoder.decode(chunk, { stream: true });
    const lines = pending.split("\n");
    pending = lines.pop() ?? "";
    for (const line of lines) summary = parseSummaryLine(line) ?? summary;
  }
  summary = parseSummaryLine(pending) ?? summary;
  return summary ?? { passed: 0, failed: 1 };
}
