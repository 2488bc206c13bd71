/**
 * Just enough PromQL reading to list the metric names an expression selects. Not a
 * parser: the live test has Prometheus itself parse every expression.
 *
 * @module
 */

const KEYWORDS = new Set(["and", "or", "unless", "offset", "bool", "inf", "nan", "atan2"]);

/**
 * The metric names selected by a PromQL expression (Grafana variables allowed).
 *
 * @example
 * ```ts
 * metricNames('sum by (job) (rate(http_requests_total{status="500"}[5m]))');
 * // ["http_requests_total"]
 * ```
 */
export function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, " ") // string literals
    .replace(/\{[^}]*\}/g, " ") // label matchers
    .replace(/\[[^\]]*\]/g, " ") // range and subquery selectors
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, " ");
  const names = new Set<string>();
  for (const match of stripped.matchAll(/(?<![\w.$])[a-zA-Z_:][\w:]*/g)) {
    const rest = stripped.slice(match.index + match[0].length).trimStart();
    if (rest.startsWith("(") || KEYWORDS.has(match[0].toLowerCase())) continue;
    names.add(match[0]);
  }
  return [...names];
}
