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

/** Minor units to the wire's decimal number: exact, since the division by a power of ten is done on the string. */
export function toWireMoney(minor: number, currency: string): WireMoney {
  return { currency, value: minorToNumber(minor, currency) };
}

export function minorToNumber(minor: number, currency: string): number {
  const digits = minorDigits(currency);
  if (digits === 0) return minor;
  const negative = minor < 0;
  const s = Math.abs(minor).toString().padStart(digits + 1, '0');
  return Number(`${negative ? '-' : ''}${s.slice(0, -digits)}.${s.slice(-digits)}`);
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
