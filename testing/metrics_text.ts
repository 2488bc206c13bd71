/**
 * Reading one sample out of a Prometheus text exposition (a service's `/metrics`).
 *
 * @module
 */

/**
 * The value of the first sample of `name` whose labels include every pair of `labels`;
 * undefined when there is none.
 *
 * @example
 * ```ts
 * sampleValue('up{job="a"} 1\n', "up", { job: "a" }); // 1
 * ```
 */
export function sampleValue(
  text: string,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}=${JSON.stringify(v)}`);
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const close = line.lastIndexOf("}");
    const labelText = line.startsWith(`${name}{`) ? line.slice(name.length + 1, close) : "";
    const pairs: string[] = labelText.match(/[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*"/g) ?? [];
    if (!wanted.every((pair) => pairs.includes(pair))) continue;
    const value = Number(line.slice(line.lastIndexOf(" ") + 1));
    if (Number.isFinite(value)) return value;
  }
  return undefined;
}
