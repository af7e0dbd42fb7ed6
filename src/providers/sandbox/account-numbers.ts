import type { Rng } from './prng.js';

/**
 * Account numbers that pass the checks real systems run: the IBAN's ISO 13616 mod-97 check digits,
 * and the national check digits where a country has one (Norway's mod 11, Finland's Luhn).
 */

export type SandboxCountry = 'DK' | 'SE' | 'NO' | 'FI' | 'DE';

export interface AccountNumber {
  bban: string;
  bbanParsed: { bankCode: string; accountNumber: string };
  /** Ferry decides: Aiia does not document its `bbanType` values; these name the national format. */
  bbanType: string;
  iban: string;
}

/** ISO 13616 IBAN lengths of the countries the sandbox generates. */
const IBAN_LENGTHS: Record<string, number> = { DK: 18, SE: 24, NO: 15, FI: 18, DE: 22 };

const BBAN_TYPES: Record<SandboxCountry, string> = {
  DK: 'DanishDomestic',
  SE: 'SwedishDomestic',
  NO: 'NorwegianDomestic',
  FI: 'FinnishDomestic',
  DE: 'GermanDomestic',
};

/** The remainder mod 97 of the IBAN's numeric form (letters A=10 … Z=35), digit by digit. */
function mod97(text: string): number {
  let remainder = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code >= 48 && code <= 57) {
      remainder = (remainder * 10 + (code - 48)) % 97;
    } else {
      const value = code - 55; // 'A' (65) → 10
      remainder = (remainder * 100 + value) % 97;
    }
  }
  return remainder;
}

/** ISO 13616: check digits = 98 − (BBAN + country + "00") mod 97. */
export function ibanCheckDigits(country: string, bban: string): string {
  const check = 98 - mod97(`${bban}${country}00`);
  return check < 10 ? `0${check}` : String(check);
}

export function formatIban(country: string, bban: string): string {
  return `${country}${ibanCheckDigits(country, bban)}${bban}`;
}

/** True for a well-formed IBAN of a known length whose check digits are right. */
export function isValidIban(iban: string): boolean {
  if (!/^[A-Z]{2}\d{2}[A-Z0-9]{1,30}$/.test(iban)) return false;
  const length = IBAN_LENGTHS[iban.slice(0, 2)];
  if (length !== undefined && iban.length !== length) return false;
  return mod97(`${iban.slice(4)}${iban.slice(0, 4)}`) === 1;
}

function digits(rng: Rng, count: number): string {
  let text = '';
  for (let i = 0; i < count; i++) text += String(rng.int(10));
  return text;
}

/** Norway's account check digit: weights 5,4,3,2,7,6,5,4,3,2 mod 11; null when it would be 10. */
export function norwegianCheckDigit(first10: string): number | null {
  const weights = [5, 4, 3, 2, 7, 6, 5, 4, 3, 2];
  let sum = 0;
  for (let i = 0; i < 10; i++) sum += Number(first10[i]) * weights[i]!;
  const check = 11 - (sum % 11);
  if (check === 11) return 0;
  return check === 10 ? null : check;
}

/** Luhn (mod 10) check digit, as Finnish account numbers use. */
export function luhnCheckDigit(payload: string): number {
  let sum = 0;
  for (let i = 0; i < payload.length; i++) {
    let d = Number(payload[payload.length - 1 - i]);
    if (i % 2 === 0) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return (10 - (sum % 10)) % 10;
}

/**
 * A new account number at a bank whose national bank code is `bankCode`
 * (DK registration number, SE clearing number, NO bank number, FI bank/branch code, DE Bankleitzahl).
 */
export function generateAccountNumber(country: SandboxCountry, bankCode: string, rng: Rng): AccountNumber {
  const bbanType = BBAN_TYPES[country];
  switch (country) {
    case 'DK': {
      // Registration number (4) + account number (10).
      const accountNumber = digits(rng, 10);
      const bban = `${bankCode}${accountNumber}`;
      return { bban, bbanParsed: { bankCode, accountNumber }, bbanType, iban: formatIban('DK', bban) };
    }
    case 'SE': {
      // Clearing number (4) + account number (7); the IBAN holds a 3-digit bank id and 17 digits.
      const accountNumber = digits(rng, 7);
      const bban = `${bankCode}${accountNumber}`;
      const ibanBban = `${bankCode.slice(0, 3)}${bban.padStart(17, '0')}`;
      return { bban, bbanParsed: { bankCode, accountNumber }, bbanType, iban: formatIban('SE', ibanBban) };
    }
    case 'NO': {
      // Bank number (4) + account group and number (6) + mod-11 check digit.
      for (;;) {
        const body = `${bankCode}${digits(rng, 6)}`;
        const check = norwegianCheckDigit(body);
        if (check === null) continue;
        const bban = `${body}${check}`;
        return { bban, bbanParsed: { bankCode, accountNumber: bban.slice(4) }, bbanType, iban: formatIban('NO', bban) };
      }
    }
    case 'FI': {
      // Bank and branch (6) + account (7) + Luhn check digit, in the 14-digit machine form.
      const body = `${bankCode}${digits(rng, 7)}`;
      const bban = `${body}${luhnCheckDigit(body)}`;
      return { bban, bbanParsed: { bankCode, accountNumber: bban.slice(6) }, bbanType, iban: formatIban('FI', bban) };
    }
    case 'DE': {
      // Bankleitzahl (8) + Kontonummer (10).
      const accountNumber = digits(rng, 10);
      const bban = `${bankCode}${accountNumber}`;
      return { bban, bbanParsed: { bankCode, accountNumber }, bbanType, iban: formatIban('DE', bban) };
    }
  }
}

/** A masked card number as banks show it: only the last four digits. */
export function maskedPan(rng: Rng): string {
  return `•••• ${digits(rng, 4)}`;
}
