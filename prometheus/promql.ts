/**
 * PromQL read with Prometheus' own grammar (`@prometheus-io/lezer-promql`, the parser of
 * Prometheus' web UI), for the lints of rules and dashboards: the selectors an expression
 * makes (metric, label matchers, range and the function applied to it), its syntax
 * errors, and the physical dimension of its result (seconds, bytes, per second), from
 * which a dashboard's unit is checked. Grafana's template variables are allowed.
 *
 * @module
 */
import { parser } from "@prometheus-io/lezer-promql";

type SyntaxNode = ReturnType<typeof parser.parse>["topNode"];

/** A label matcher of a selector, `value` unquoted. */
export interface Matcher {
  label: string;
  op: string;
  value: string;
}

/** One vector selector of an expression. */
export interface Selector {
  /** The metric name, when the selector has one. */
  name?: string;
  matchers: Matcher[];
  /** The range as written (`5m`, `$__rate_interval`) when the selector is a range. */
  range?: string;
  /** The function the range is passed to (`rate`, `increase`, ...), if any. */
  fn?: string;
}

/** Powers of seconds and bytes of an expression's result; `scalar` for plain numbers. */
export interface Dimension {
  seconds: number;
  bytes: number;
  scalar: boolean;
}

/**
 * Grafana's interval variables, which are durations PromQL's grammar does not know:
 * parsed as distinct, implausible durations and reported back by name.
 */
const INTERVAL_VARIABLES: Record<string, string> = {
  __rate_interval: "7777777ms",
  __interval: "8888888ms",
  __range: "9999999ms",
};
const INTERVAL_PATTERN =
  /\$\{(__rate_interval|__interval|__range)(?::[^}]*)?\}|\$(__rate_interval|__interval|__range)\b/g;

/** A parsed expression: its tree, its source (variables replaced) and its syntax errors. */
export interface ParsedPromql {
  source: string;
  root: SyntaxNode;
  errors: string[];
}

/**
 * Parses `expr`; `errors` lists each syntax error with the text around it.
 *
 * @example
 * ```ts
 * parsePromql("sum(rate(x_total[5m])").errors; // ["syntax error at 21: ...)"]
 * ```
 */
export function parsePromql(expr: string): ParsedPromql {
  const source = expr.replace(
    INTERVAL_PATTERN,
    (_, braced?: string, bare?: string) => INTERVAL_VARIABLES[(braced ?? bare)!]!,
  );
  const tree = parser.parse(source);
  const errors: string[] = [];
  tree.iterate({
    enter(node) {
      if (node.type.isError) {
        errors.push(`syntax error at ${node.from}: ...${source.slice(node.from, node.from + 20)}`);
      }
    },
  });
  return { source, root: tree.topNode, errors };
}

const text = (parsed: ParsedPromql, node: SyntaxNode | null | undefined) =>
  node ? parsed.source.slice(node.from, node.to) : "";

/** A duration as written, with Grafana's interval variables given back their names. */
function durationText(written: string): string {
  const variable = Object.entries(INTERVAL_VARIABLES).find(([, value]) => value === written);
  return variable ? `$${variable[0]}` : written;
}

function unquote(literal: string): string {
  if (literal.startsWith("`")) return literal.slice(1, -1);
  return literal.slice(1, -1).replace(/\\(.)/g, "$1");
}

/** The expression children of a node (skipping keywords, modifiers and punctuation). */
function operands(node: SyntaxNode): SyntaxNode[] {
  const result: SyntaxNode[] = [];
  for (let child = node.firstChild; child; child = child.nextSibling) {
    if (child.type.is("Expr")) result.push(child);
  }
  return result;
}

/** The function name of a FunctionCall node, lower case (`rate`, `histogram_quantile`). */
function functionName(parsed: ParsedPromql, call: SyntaxNode): string {
  return text(parsed, call.getChild("FunctionIdentifier")).toLowerCase();
}

/**
 * Every vector selector of `expr`, in order.
 *
 * @example
 * ```ts
 * selectors('rate(x_total{job=~"$job"}[$__rate_interval])');
 * // [{ name: "x_total", matchers: [{ label: "job", op: "=~", value: "$job" }],
 * //    range: "$__rate_interval", fn: "rate" }]
 * ```
 */
export function selectors(expr: string): Selector[] {
  const parsed = parsePromql(expr);
  const found: Selector[] = [];
  const visit = (node: SyntaxNode) => {
    if (node.name === "VectorSelector") {
      const selector: Selector = { matchers: [] };
      const name = node.getChild("Identifier");
      if (name) selector.name = text(parsed, name);
      const matchers = node.getChild("LabelMatchers");
      for (let m = matchers?.firstChild; m; m = m.nextSibling) {
        if (m.name !== "UnquotedLabelMatcher" && m.name !== "QuotedLabelMatcher") continue;
        const label = m.firstChild!;
        selector.matchers.push({
          label: label.name === "QuotedLabelName"
            ? unquote(text(parsed, label))
            : text(parsed, label),
          op: text(parsed, m.getChild("MatchOp")),
          value: unquote(text(parsed, m.getChild("StringLiteral"))),
        });
      }
      const matrix = node.parent?.name === "MatrixSelector" ? node.parent : undefined;
      if (matrix) {
        selector.range = durationText(text(parsed, matrix.getChild("DurationExpr")).trim());
        const call = matrix.parent?.parent;
        if (call?.name === "FunctionCall") selector.fn = functionName(parsed, call);
      }
      found.push(selector);
    }
    for (let child = node.firstChild; child; child = child.nextSibling) visit(child);
  };
  visit(parsed.root);
  return found;
}

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
  return [...new Set(selectors(expr).flatMap((s) => s.name ? [s.name] : []))];
}

const SCALAR: Dimension = { seconds: 0, bytes: 0, scalar: true };
const NONE: Dimension = { seconds: 0, bytes: 0, scalar: false };

/** The dimension of a metric by the base unit its name ends with (Prometheus' naming rules). */
function metricDimension(name: string): Dimension {
  if (/_(count|bucket)$/.test(name)) return NONE;
  const base = name.replace(/_(total|sum)$/, "");
  if (base.endsWith("_seconds")) return { seconds: 1, bytes: 0, scalar: false };
  if (base.endsWith("_bytes")) return { seconds: 0, bytes: 1, scalar: false };
  return NONE;
}

function combine(a: Dimension, b: Dimension, sign: 1 | -1): Dimension {
  return {
    seconds: a.seconds + sign * b.seconds,
    bytes: a.bytes + sign * b.bytes,
    scalar: a.scalar && b.scalar,
  };
}

/** Range functions whose result is per second, and those that count rather than measure. */
const PER_SECOND = new Set(["rate", "irate", "deriv"]);
const COUNTING = new Set([
  "count_over_time",
  "changes",
  "resets",
  "absent",
  "absent_over_time",
  "present_over_time",
]);

function dimensionOf(parsed: ParsedPromql, node: SyntaxNode): Dimension {
  switch (node.name) {
    case "PromQL":
    case "ParenExpr":
    case "UnaryExpr":
    case "OffsetExpr":
    case "SubqueryExpr":
    case "StepInvariantExpr":
    case "MatrixSelector": {
      const inner = operands(node)[0];
      return inner ? dimensionOf(parsed, inner) : NONE;
    }
    case "NumberDurationLiteral":
      return SCALAR;
    case "StringLiteral":
      return NONE;
    case "VectorSelector":
      return metricDimension(text(parsed, node.getChild("Identifier")));
    case "FunctionCall": {
      const name = functionName(parsed, node);
      const args = operands(node.getChild("FunctionCallBody")!);
      if (name === "histogram_quantile") {
        const bucket = args[1]
          ? selectorNames(parsed, args[1]).find((n) => n.endsWith("_bucket"))
          : undefined;
        return bucket ? metricDimension(bucket.replace(/_bucket$/, "")) : NONE;
      }
      if (COUNTING.has(name)) return NONE;
      if (name === "vector" || name === "scalar") {
        return args[0] ? dimensionOf(parsed, args[0]) : SCALAR;
      }
      const measured =
        name === "quantile_over_time" || name === "label_replace" || name === "label_join"
          ? (name === "quantile_over_time" ? args[1] : args[0])
          : args.find((arg) => !dimensionOf(parsed, arg).scalar) ?? args[0];
      const inner = measured ? dimensionOf(parsed, measured) : NONE;
      return PER_SECOND.has(name)
        ? combine(inner, { seconds: 1, bytes: 0, scalar: false }, -1)
        : inner;
    }
    case "AggregateExpr": {
      const op = text(parsed, node.getChild("AggregateOp")).toLowerCase();
      const args = operands(node.getChild("FunctionCallBody")!);
      if (op === "count" || op === "count_values" || op === "group") return NONE;
      const measured = ["topk", "bottomk", "quantile", "limitk", "limit_ratio"].includes(op)
        ? args[1]
        : args[0];
      return measured ? dimensionOf(parsed, measured) : NONE;
    }
    case "BinaryExpr": {
      const [left, right] = operands(node);
      if (!left || !right) return NONE;
      const a = dimensionOf(parsed, left);
      const b = dimensionOf(parsed, right);
      if (node.getChild("Mul")) return combine(a, b, 1);
      if (node.getChild("Div")) return combine(a, b, -1);
      // +, -, comparisons and set operators keep the dimension of the measured side.
      return a.scalar ? b : a;
    }
    default:
      return NONE;
  }
}

function selectorNames(parsed: ParsedPromql, node: SyntaxNode): string[] {
  const names: string[] = [];
  const visit = (n: SyntaxNode) => {
    if (n.name === "VectorSelector") names.push(text(parsed, n.getChild("Identifier")));
    for (let child = n.firstChild; child; child = child.nextSibling) visit(child);
  };
  visit(node);
  return names;
}

/**
 * The dimension of the result of `expr`, from the base units in its metric names:
 * `histogram_quantile` over a `_seconds` histogram is seconds, `rate()` divides by
 * seconds, `_sum / _count` of seconds is seconds, counts and ratios are dimensionless.
 *
 * @example
 * ```ts
 * resultDimension("rate(process_cpu_seconds_total[5m])"); // { seconds: 0, bytes: 0, scalar: false }
 * resultDimension("process_resident_memory_bytes"); // { seconds: 0, bytes: 1, scalar: false }
 * ```
 */
export function resultDimension(expr: string): Dimension {
  const parsed = parsePromql(expr);
  return dimensionOf(parsed, parsed.root);
}
