import assert from "node:assert/strict";
import { substituteVariables } from "./grafana_variables.ts";

Deno.test("substituteVariables replaces every Grafana variable syntax", () => {
  assert.equal(
    substituteVariables(
      'rate(x{job=~"$job",instance=~"${instance:regex}",a="[[job]]"}[$__rate_interval])',
      { job: "p|c", instance: ".*", __rate_interval: "1m" },
    ),
    'rate(x{job=~"p|c",instance=~".*",a="p|c"}[1m])',
  );
});

Deno.test("substituteVariables names every variable it has no value for", () => {
  assert.throws(
    () => substituteVariables('x{a="$job",b="$env"}[$__range]', { job: "j" }),
    /No value for Grafana variable env, __range in: /,
  );
});
