/**
 * Replaces Grafana's template variables in a dashboard query with fixed values, so
 * Prometheus can evaluate the query the way Grafana would send it.
 *
 * @module
 */

/**
 * `expr` with every `$name`, `${name}`, `${name:format}` and `[[name]]` replaced by
 * `values[name]`. Throws naming any variable without a value, so a new dashboard
 * variable needs a deliberate substitution instead of reaching Prometheus as `$x`.
 *
 * @example
 * ```ts
 * substituteVariables('rate(x{job=~"$job"}[$__rate_interval])', {
 *   job: "payment-producer", __rate_interval: "1m",
 * }); // 'rate(x{job=~"payment-producer"}[1m])'
 * ```
 */
export function substituteVariables(expr: string, values: Record<string, string>): string {
  const unknown = new Set<string>();
  const value = (name: string) => {
    const found = values[name];
    if (found === undefined) unknown.add(name);
    return found ?? "";
  };
  const result = expr
    .replace(/\$\{(\w+)(?::[^}]*)?\}/g, (_, name: string) => value(name))
    .replace(/\[\[(\w+)(?::[^\]]*)?\]\]/g, (_, name: string) => value(name))
    .replace(/\$(\w+)/g, (_, name: string) => value(name));
  if (unknown.size > 0) {
    throw new Error(`No value for Grafana variable ${[...unknown].join(", ")} in: ${expr}`);
  }
  return result;
}
