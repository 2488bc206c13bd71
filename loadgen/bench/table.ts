/**
 * Benchmark rows, their ratio to the relevant ceiling, the targets they are judged
 * against, and the single table `deno task bench` prints.
 *
 * @module
 */

/** One measured figure. */
export interface BenchRow {
  /** Section: "ceiling", "producer", "consumer", "end-to-end". */
  group: string;
  name: string;
  value: number;
  unit: "rec/s" | "payments/s" | "ms" | "MiB" | "payments" | "µs";
  /** The figure this one is compared with (same unit). */
  ceiling?: { name: string; value: number };
  /** value / ceiling.value, for throughput rows. */
  ratio?: number;
  /** A target from the issues, and whether the figure meets it. */
  target?: { text: string; met: boolean };
  /** Resident memory of the services at the end of the run, in MiB. */
  rssMiB?: { producer?: number; consumer?: number };
  /** CPU microseconds the measured process spent per record over the measured window. */
  cpuMicrosPerRecord?: number;
  /** Records written per input record, and transaction markers per input record. */
  writtenPerInput?: { records: number; markers: number };
  /** Anything needed to read the figure (latency percentiles, rate kept or not). */
  note?: string;
  /** Set instead of a figure when the row could not be measured. */
  error?: string;
}

/** A throughput row with its ratio to `ceiling`. */
export function throughputRow(
  fields: Omit<BenchRow, "ratio">,
): BenchRow {
  const ratio = fields.ceiling && fields.ceiling.value > 0
    ? fields.value / fields.ceiling.value
    : undefined;
  return { ...fields, ...(ratio !== undefined ? { ratio } : {}) };
}

/** Judges a ratio target such as "≥ 70% of bare kafkajs". */
export function ratioTarget(ratio: number | undefined, min: number, of: string) {
  return { text: `≥ ${Math.round(min * 100)}% of ${of}`, met: ratio !== undefined && ratio >= min };
}

/** Judges a latency target such as "p99 < 15 ms". */
export function latencyTarget(label: string, valueMs: number, maxMs: number) {
  return { text: `${label} < ${maxMs} ms`, met: valueMs < maxMs };
}

/** Judges a ceiling such as "< 300 MiB" (strictly below) or a count such as "= 0". */
export function belowTarget(value: number, max: number, unit: string) {
  return max === 0
    ? { text: "= 0", met: value === 0 }
    : { text: `< ${max} ${unit}`, met: value < max };
}

const fmt = (value: number, unit: BenchRow["unit"]) =>
  unit === "ms" || unit === "µs"
    ? `${value.toFixed(value < 10 ? 2 : 1)} ${unit}`
    : `${Math.round(value).toLocaleString("en-US")} ${unit}`;

/** The rows as one aligned text table. */
export function formatBenchTable(rows: BenchRow[]): string {
  const header = [
    "group",
    "benchmark",
    "result",
    "ceiling",
    "ratio",
    "target",
    "RSS P/C MiB",
    "CPU µs/rec",
    "writes/rec (+markers)",
    "notes",
  ];
  const body = rows.map((r) => [
    r.group,
    r.name,
    r.error ? "n/a" : fmt(r.value, r.unit),
    r.ceiling ? `${fmt(r.ceiling.value, r.unit)} (${r.ceiling.name})` : "",
    r.ratio !== undefined ? `${(r.ratio * 100).toFixed(0)}%` : "",
    r.target ? `${r.target.met ? "MET" : "MISSED"} ${r.target.text}` : "",
    r.rssMiB
      ? `${r.rssMiB.producer?.toFixed(0) ?? "-"}/${r.rssMiB.consumer?.toFixed(0) ?? "-"}`
      : "",
    r.cpuMicrosPerRecord !== undefined && Number.isFinite(r.cpuMicrosPerRecord)
      ? r.cpuMicrosPerRecord.toFixed(r.cpuMicrosPerRecord < 10 ? 1 : 0)
      : "",
    r.writtenPerInput
      ? `${r.writtenPerInput.records.toFixed(2)} (+${r.writtenPerInput.markers.toFixed(3)})`
      : "",
    r.error ? `ERROR: ${r.error}` : r.note ?? "",
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ").trimEnd();
  return [line(header), widths.map((w) => "-".repeat(w)).join("-|-"), ...body.map(line)].join("\n");
}
