import type { BankAccount, Culture, Money } from '../providers/types.js';

/**
 * Money, dates and numbers for the hosted flow, all through `Intl` in the user's language.
 * English uses British conventions (day before month, 24-hour clock): Ferry's users are in Europe.
 */
const LOCALES: Record<Culture, string> = { en: 'en-GB', da: 'da-DK', sv: 'sv-SE', nb: 'nb-NO', fi: 'fi-FI', de: 'de-DE' };

/** The server cannot know the browser's time zone; it guesses from the language, and the page script corrects it. */
const TIME_ZONES: Record<Culture, string> = {
  en: 'Europe/London',
  da: 'Europe/Copenhagen',
  sv: 'Europe/Stockholm',
  nb: 'Europe/Oslo',
  fi: 'Europe/Helsinki',
  de: 'Europe/Berlin',
};

/** The country whose banks the bank step shows first (English: every country). */
export const CULTURE_COUNTRY: Record<Culture, string | null> = { en: null, da: 'DK', sv: 'SE', nb: 'NO', fi: 'FI', de: 'DE' };

export function intlLocale(culture: Culture): string {
  return LOCALES[culture];
}

const moneyFormats = new Map<string, Intl.NumberFormat>();

export function formatMoney(culture: Culture, money: Money): string {
  const key = `${culture}:${money.currency}`;
  let format = moneyFormats.get(key);
  if (format === undefined) {
    format = new Intl.NumberFormat(LOCALES[culture], { style: 'currency', currency: money.currency });
    moneyFormats.set(key, format);
  }
  const digits = format.resolvedOptions().maximumFractionDigits ?? 2;
  return format.format(money.minor / 10 ** digits);
}

/** Options shared with assets/flow.js, which re-formats `<time>` elements in the browser's own zone. */
export const DATE_TIME_OPTIONS: Intl.DateTimeFormatOptions = {
  weekday: 'long',
  day: 'numeric',
  month: 'long',
  hour: '2-digit',
  minute: '2-digit',
  timeZoneName: 'short',
};

const dateFormats = new Map<Culture, Intl.DateTimeFormat>();

export function formatDateTime(culture: Culture, epochMs: number): string {
  let format = dateFormats.get(culture);
  if (format === undefined) {
    format = new Intl.DateTimeFormat(LOCALES[culture], { ...DATE_TIME_OPTIONS, timeZone: TIME_ZONES[culture] });
    dateFormats.set(culture, format);
  }
  return format.format(epochMs);
}

const numberFormats = new Map<Culture, Intl.NumberFormat>();

/** A count or an amount of hours: at most one decimal (a retention of 0.5 hours is possible). */
export function formatNumber(culture: Culture, value: number): string {
  let format = numberFormats.get(culture);
  if (format === undefined) {
    format = new Intl.NumberFormat(LOCALES[culture], { maximumFractionDigits: 1 });
    numberFormats.set(culture, format);
  }
  return format.format(value);
}

const regionNames = new Map<Culture, Intl.DisplayNames>();

export function countryName(culture: Culture, countryCode: string): string {
  let names = regionNames.get(culture);
  if (names === undefined) {
    names = new Intl.DisplayNames([LOCALES[culture]], { type: 'region' });
    regionNames.set(culture, names);
  }
  try {
    return names.of(countryCode) ?? countryCode;
  } catch {
    return countryCode;
  }
}

/** An account number as the user recognises it, with all but its last four characters hidden. */
export function maskedAccountNumber(account: Pick<BankAccount, 'iban' | 'bban' | 'card'>): string | null {
  if (account.card) return account.card;
  const number = (account.bban ?? account.iban ?? '').replace(/\s+/g, '');
  if (number === '') return null;
  return `•••• ${number.slice(-4)}`;
}

/** Upper-case letters and digits only, to compare `bank_account_numbers` with what the bank returned. */
export function normaliseAccountNumber(value: string): string {
  return value.replace(/[^A-Za-z0-9]/g, '').toUpperCase();
}

/** Lower case without accents, for searching bank names as the user types ("Sparekassen" finds "Spārekassen"). */
export function searchKey(value: string): string {
  return value
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .trim();
}
