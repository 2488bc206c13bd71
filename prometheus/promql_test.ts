import assert from "node:assert/strict";
import { metricNames, parsePromql, resultDimension, selectors } from "./promql.ts";

Deno.test("metricNames lists selected metrics, not functions, labels or durations", () => {
  assert.deepEqual(
    metricNames(
      'sum by (job, le) (rate(a_bucket{x="y",z=~"$job"}[$__rate_interval])) / ' +
        '(b_total offset 5m > 1e-9) or on() label_replace(vector(0), "reason", "none", "", "")',
    ),
    ["a_bucket", "b_total"],
  );
  assert.deepEqual(metricNames("slo:sli_error:ratio_rate1h / on (slo) slo:error_budget:ratio"), [
    "slo:sli_error:ratio_rate1h",
    "slo:error_budget:ratio",
  ]);
});

Deno.test("selectors report matchers, the range as written and the function it feeds", () => {
  assert.deepEqual(
    selectors(
      'sum(rate(x_total{job=~"$job",instance=~"${instance}"}[$__rate_interval])) + y{a!="b"} ' +
        "+ increase(z_total[1h])",
    ),
    [
      {
        name: "x_total",
        matchers: [
          { label: "job", op: "=~", value: "$job" },
          { label: "instance", op: "=~", value: "${instance}" },
        ],
        range: "$__rate_interval",
        fn: "rate",
      },
      { name: "y", matchers: [{ label: "a", op: "!=", value: "b" }] },
      { name: "z_total", matchers: [], range: "1h", fn: "increase" },
    ],
  );
});

Deno.test("parsePromql reports syntax errors and accepts Grafana's interval variables", () => {
  assert.deepEqual(parsePromql("rate(x[$__rate_interval]) / rate(x[${__range}])").errors, []);
  assert.equal(parsePromql("sum(rate(x_total[5m])").errors.length, 1);
  assert.ok(parsePromql("x{job=}").errors.length > 0);
});

Deno.test("resultDimension follows base units through functions and arithmetic", () => {
  const seconds = { seconds: 1, bytes: 0, scalar: false };
  const none = { seconds: 0, bytes: 0, scalar: false };
  const cases: [string, typeof seconds][] = [
    ["histogram_quantile(0.95, sum by (le) (rate(x_seconds_bucket[5m])))", seconds],
    ["sum(rate(x_seconds_sum[5m])) / sum(rate(x_seconds_count[5m]))", seconds],
    ["max by (partition) (consumer_lag_seconds)", seconds],
    ["rate(process_cpu_seconds_total[5m])", none],
    ["process_resident_memory_bytes", { seconds: 0, bytes: 1, scalar: false }],
    ["rate(x_bytes_total[5m])", { seconds: -1, bytes: 1, scalar: false }],
    ["sum(rate(http_requests_total[5m]))", { seconds: -1, bytes: 0, scalar: false }],
    ["count(up == 1)", none],
    ["(sum(rate(a_total[5m])) or vector(0)) / (sum(rate(b_total[5m])) > 0)", none],
    ["nodejs_eventloop_lag_seconds * 1000", seconds],
    ["1 - slo:sli_error:ratio_rate30d / on (slo) slo:error_budget:ratio", none],
  ];
  for (const [expr, expected] of cases) assert.deepEqual(resultDimension(expr), expected, expr);
});
