/**
 * How many decimal places an amount may have in each currency: the ISO 4217 minor
 * unit (2 for USD and EUR, 0 for JPY, 3 for BHD and KWD), from the npm package
 * `currency-codes`, which ships ISO's published list (its date is
 * {@linkcode MINOR_UNITS_SOURCE}). Not `Intl`: CLDR's display digits differ from ISO
 * for about fifteen codes (IQD 0 instead of 3, RSD 0 instead of 2, ...).
 *
 * Codes ISO lists without a minor unit ("N.A.", which the package reports as 0) and
 * codes it no longer lists but the runtime still accepts (HRK, SLL, ZWL) get
 * {@linkcode DEFAULT_MINOR_UNITS}.
 *
 * @module
 */
import currencyCodes from "currency-codes";

/** Decimal places of a currency ISO 4217 gives no minor unit for. */
export const DEFAULT_MINOR_UNITS = 2;

/**
 * The codes whose minor unit ISO 4217 gives as "N.A." among those the API accepts
 * (`Intl.supportedValuesOf("currency")`): the package cannot tell them from a real 0.
 * `currency_test.ts` checks this list against the ISO file the package ships.
 */
export const NO_MINOR_UNIT: ReadonlySet<string> = new Set(["XDR", "XSU"]);

/** When ISO published the list the minor units come from. */
export const MINOR_UNITS_SOURCE = `ISO 4217 list of ${currencyCodes.publishDate}`;

/**
 * The decimal places an amount in `currency` may have.
 *
 * @example
 * ```ts
 * minorUnits("USD"); // 2
 * minorUnits("JPY"); // 0
 * minorUnits("BHD"); // 3
 * ```
 */
export function minorUnits(currency: string): number {
  if (NO_MINOR_UNIT.has(currency)) return DEFAULT_MINOR_UNITS;
  return currencyCodes.code(currency)?.digits ?? DEFAULT_MINOR_UNITS;
}

/**
 * The decimal places of a number as JSON wrote it: the shortest text that reads back
 * as the same number (what `String` gives), exponent included. A client that sent
 * `1.005` gets 3, `99.90` (the number 99.9) 1, `1e-7` 7.
 *
 * @example
 * ```ts
 * decimalPlaces(1.005); // 3
 * decimalPlaces(12); // 0
 * decimalPlaces(1.5e-7); // 8
 * ```
 */
export function decimalPlaces(value: number): number {
  const match = /^-?\d+(?:\.(\d+))?(?:e([+-]\d+))?$/.exec(String(value));
  if (!match) return Number.POSITIVE_INFINITY; // NaN or Infinity: no number of places fits
  return Math.max(0, (match[1]?.length ?? 0) - Number(match[2] ?? 0));
}
