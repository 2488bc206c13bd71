/**
 * The correctness check of a consume-transform-produce run: every input record has
 * exactly one result (matched by key, the payment id), and, when the loop applies
 * rules, each result carries the outcome those rules give. Pure: the records are read
 * elsewhere (`topic_read.ts`).
 *
 * @module
 */

/** A record as the check sees it. */
export interface KeyedRecord {
  key: string;
  value: string;
}

/** What a run's output says about its input. */
export interface Verdict {
  inputs: number;
  results: number;
  /** Inputs whose result is not there. */
  missing: number;
  /** Results beyond one per input (a second result, or one for no input). */
  extra: number;
  /** Results whose outcome is not the expected one (only when outcomes are checked). */
  wrongOutcome: number;
  /** Results per outcome (`unreadable` when the value is not JSON with an outcome). */
  outcomes: Record<string, number>;
  ok: boolean;
}

/**
 * Judges `results` against `inputs` (each in offset order per partition). With
 * `decide`, the first input of a key expects `decide(value)` and any later one
 * `DUPLICATE`, as a de-duplicating processor answers.
 *
 * @example
 * ```ts
 * resultVerdict([{ key: "p1", value: "{}" }], []).missing; // 1
 * ```
 */
export function resultVerdict(
  inputs: KeyedRecord[],
  results: KeyedRecord[],
  decide?: (value: string) => string,
): Verdict {
  const expected = new Map<string, string[]>();
  for (const input of inputs) {
    const seen = expected.get(input.key);
    if (seen) seen.push(decide ? "DUPLICATE" : "");
    else expected.set(input.key, [decide ? decide(input.value) : ""]);
  }
  const outcomes: Record<string, number> = {};
  const got = new Map<string, string[]>();
  for (const result of results) {
    const outcome = outcomeOf(result.value);
    outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
    const have = got.get(result.key);
    if (have) have.push(outcome);
    else got.set(result.key, [outcome]);
  }
  let missing = 0;
  let extra = 0;
  let wrongOutcome = 0;
  for (const key of new Set([...expected.keys(), ...got.keys()])) {
    const want = expected.get(key) ?? [];
    const have = got.get(key) ?? [];
    missing += Math.max(0, want.length - have.length);
    extra += Math.max(0, have.length - want.length);
    if (decide) wrongOutcome += unmatched(want, have);
  }
  return {
    inputs: inputs.length,
    results: results.length,
    missing,
    extra,
    wrongOutcome,
    outcomes,
    ok: missing === 0 && extra === 0 && wrongOutcome === 0,
  };
}

/** The verdict in one line for a row's note. */
export function formatVerdict(v: Verdict): string {
  const outcomes = Object.entries(v.outcomes).sort(([a], [b]) => a.localeCompare(b))
    .map(([outcome, n]) => `${outcome} ${n}`).join(", ");
  return `${v.results} results for ${v.inputs} inputs read back read_committed: ` +
    `${v.missing} missing, ${v.extra} extra, ${v.wrongOutcome} wrong outcomes (${outcomes})`;
}

function outcomeOf(value: string): string {
  try {
    const outcome = (JSON.parse(value) as { outcome?: unknown }).outcome;
    return typeof outcome === "string" ? outcome : "unreadable";
  } catch {
    return "unreadable";
  }
}

/** How many of `have` find no equal, still unmatched entry in `want` (multisets). */
function unmatched(want: string[], have: string[]): number {
  const left = [...want];
  let count = 0;
  for (const outcome of have) {
    const at = left.indexOf(outcome);
    if (at < 0) count += 1;
    else left.splice(at, 1);
  }
  // Results beyond the inputs are counted as extra already, not also as wrong.
  return Math.max(0, count - Math.max(0, have.length - want.length));
}
