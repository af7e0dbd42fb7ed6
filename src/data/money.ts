/**
 * Money on the wire is `{ currency, value }` with `value` a JSON number (aiia-api.md conventions);
 * Ferry stores integer minor units and converts only at the edge, so no float ever adds up.
 */
const MINOR_UNIT_DIGITS: Record<string, number> = { JPY: 0, ISK: 0, KRW: 0, BHD: 3, KWD: 3, OMR: 3, TND: 3 };

export function minorDigits(currency: string): number {
  return MINOR_UNIT_DIGITS[currency] ?? 2;
}

export interface WireMoney {
  currency: string;
  value: number;
}

/** Minor units to the wire's decimal number, exact to the last digit. */
export function toWireMoney(minor: number, currency: string): WireMoney {
  return { currency, value: minorToNumber(minor, currency) };
}

const POWERS_OF_TEN = [1, 10, 100, 1000];

/**
 * `minor / 10^digits` is the double nearest the decimal `minor` with the point moved left: the
 * operands are exact (integers below 2^53, a small power of ten) and IEEE 754 division rounds the
 * exact quotient to the nearest double, just as parsing the decimal string would.
 */
export function minorToNumber(minor: number, currency: string): number {
  const digits = minorDigits(currency);
  return digits === 0 ? minor : minor / POWERS_OF_TEN[digits]!;
}

/** A wire amount (e.g. a query bound `-291.5`) to minor units, rounding half away from zero at the last digit. */
export function numberToMinor(value: number, currency: string): number {
  const digits = minorDigits(currency);
  const [whole = '0', fraction = ''] = Math.abs(value).toFixed(digits + 2).split('.');
  const kept = fraction.slice(0, digits);
  const rest = Number(fraction.slice(digits, digits + 1));
  let minor = Number(`${whole}${kept}`) + (rest >= 5 ? 1 : 0);
  if (value < 0) minor = -minor;
  return minor;
}
