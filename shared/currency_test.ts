import assert from "node:assert/strict";
import { parse } from "node:path";
import {
  decimalPlaces,
  DEFAULT_MINOR_UNITS,
  MINOR_UNITS_SOURCE,
  minorUnits,
  NO_MINOR_UNIT,
} from "./currency.ts";

Deno.test("minor units follow ISO 4217: USD and EUR 2, JPY 0, BHD and KWD 3", () => {
  assert.deepEqual(
    ["USD", "EUR", "GBP", "JPY", "KRW", "BHD", "KWD", "IQD", "CLF"].map(minorUnits),
    [2, 2, 2, 0, 0, 3, 3, 3, 4],
  );
  assert.match(MINOR_UNITS_SOURCE, /^ISO 4217 list of \d{4}-\d{2}-\d{2}$/);
});

Deno.test("codes ISO gives no minor unit, or no longer lists, get the default of 2", () => {
  for (const code of ["XDR", "XSU", "HRK", "SLL", "ZWL"]) {
    assert.equal(minorUnits(code), DEFAULT_MINOR_UNITS, code);
  }
});

Deno.test("the N.A. list is exactly the accepted codes whose minor unit ISO's own file gives as N.A.", async () => {
  // The package ships the ISO file its table was made from.
  const dir = parse(new URL(import.meta.resolve("currency-codes")).pathname).dir;
  const xml = await Deno.readTextFile(`${dir}/iso-4217-list-one.xml`);
  const notApplicable = new Set(
    [...xml.matchAll(/<Ccy>([A-Z]{3})<\/Ccy>\s*<CcyNbr>\d+<\/CcyNbr>\s*<CcyMnrUnts>N\.A\.</g)]
      .map((match) => match[1]!),
  );
  assert.ok(notApplicable.has("XAU"), "the file lists gold without a minor unit");
  const accepted = new Set(Intl.supportedValuesOf("currency"));
  const expected = [...notApplicable].filter((code) => accepted.has(code)).sort();
  assert.deepEqual([...NO_MINOR_UNIT].sort(), expected);
});

Deno.test("decimal places are counted on the number as JSON wrote it", () => {
  const cases: [number, number][] = [
    [12, 0],
    [99.99, 2],
    [JSON.parse("99.90"), 1],
    [1.005, 3],
    [0.1 + 0.2, 17],
    [1e-7, 7],
    [1.5e-7, 8],
    [1e21, 0],
    [-2.25, 2],
  ];
  for (const [value, places] of cases) assert.equal(decimalPlaces(value), places, String(value));
  assert.equal(decimalPlaces(Number.NaN), Number.POSITIVE_INFINITY);
});
