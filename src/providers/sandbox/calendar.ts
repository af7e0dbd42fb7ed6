/**
 * Calendar arithmetic on whole UTC days since 1970-01-01 ("epoch days") and months since year 0
 * ("month index" = year * 12 + month - 1), without allocating a Date per transaction.
 * The civil-date conversions are Howard Hinnant's `days_from_civil` / `civil_from_days`.
 */

export const DAY_MS = 86_400_000;

export function epochDay(ms: number): number {
  return Math.floor(ms / DAY_MS);
}

export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

export interface CivilDate {
  year: number;
  month: number;
  day: number;
}

export function civilFromDays(days: number): CivilDate {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return { year: yoe + era * 400 + (month <= 2 ? 1 : 0), month, day };
}

/** 0 = Sunday … 6 = Saturday (1970-01-01 was a Thursday). */
export function weekday(days: number): number {
  return (((days + 4) % 7) + 7) % 7;
}

export function isWeekend(days: number): boolean {
  const w = weekday(days);
  return w === 0 || w === 6;
}

export function monthIndexOfDay(days: number): number {
  const { year, month } = civilFromDays(days);
  return year * 12 + month - 1;
}

export function firstDayOfMonth(monthIndex: number): number {
  return daysFromCivil(Math.floor(monthIndex / 12), (monthIndex % 12) + 1, 1);
}

export function daysInMonth(monthIndex: number): number {
  return firstDayOfMonth(monthIndex + 1) - firstDayOfMonth(monthIndex);
}

/** The last weekday on or before `days`. */
export function businessDayOnOrBefore(days: number): number {
  let d = days;
  while (isWeekend(d)) d -= 1;
  return d;
}

/** The first weekday on or after `days`. */
export function businessDayOnOrAfter(days: number): number {
  let d = days;
  while (isWeekend(d)) d += 1;
  return d;
}

const DATE_CACHE_LIMIT = 20_000;
const dateStrings = new Map<number, string>();

/** `YYYY-MM-DD`, cached: a two-year history needs only ~730 distinct strings. */
export function isoDate(days: number): string {
  let text = dateStrings.get(days);
  if (text === undefined) {
    const { year, month, day } = civilFromDays(days);
    text = `${String(year).padStart(4, '0')}-${month < 10 ? '0' : ''}${month}-${day < 10 ? '0' : ''}${day}`;
    if (dateStrings.size >= DATE_CACHE_LIMIT) dateStrings.clear();
    dateStrings.set(days, text);
  }
  return text;
}

/** Parses a real calendar date `YYYY-MM-DD` to epoch days; null for anything else (2026-02-30 too). */
export function parseIsoDate(text: string): number | null {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (match === null) return null;
  const year = Number(match[1]);
  const month = Number(match[2]);
  const day = Number(match[3]);
  if (month < 1 || month > 12 || day < 1) return null;
  const days = daysFromCivil(year, month, day);
  return civilFromDays(days).day === day ? days : null;
}
