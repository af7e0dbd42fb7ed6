import type { LoginMethod } from '../types.js';
import type { SandboxBankProfile } from './accounts.js';

/**
 * The sandbox banks. `TestDataBank1`…`TestDataBank7` are Aiia's own test banks (same ids, any
 * username and any numeric password); the four `Sandbox…Bank`s each show one login method.
 */
export interface SandboxBank extends SandboxBankProfile {
  name: string;
  loginMethod: LoginMethod;
  /** Aiia's test banks accept any password made of digits; the others any password. */
  numericPassword: boolean;
  requiresSupervisedUpdate: boolean;
  /** Brand colour of the logo and the bank's own pages (white text on it passes WCAG AA). */
  colour: string;
  /** Letters on the logo. */
  mark: string;
}

/** The code the one-time-code bank accepts; its form says so. */
export const SANDBOX_OTP_CODE = '123456';

const testDataBank = (n: number, country: 'DK' | 'FI' | 'NO', currency: string, bankCode: string, colour: string): SandboxBank => ({
  id: `TestDataBank${n}`,
  name: `Test Data Bank ${n}`,
  country,
  currency,
  bankCode,
  loginMethod: 'Password',
  numericPassword: true,
  requiresSupervisedUpdate: false,
  colour,
  mark: `T${n}`,
});

export const SANDBOX_BANKS: readonly SandboxBank[] = [
  testDataBank(1, 'DK', 'DKK', '9811', '#1f4e8c'),
  testDataBank(2, 'DK', 'DKK', '9822', '#0f6e62'),
  testDataBank(3, 'DK', 'DKK', '9833', '#8c2f39'),
  testDataBank(4, 'DK', 'DKK', '9844', '#5b3f8c'),
  testDataBank(5, 'FI', 'EUR', '479150', '#005a9c'),
  testDataBank(6, 'NO', 'NOK', '9861', '#b0122b'),
  testDataBank(7, 'DK', 'DKK', '9877', '#2f6b2f'),
  {
    id: 'SandboxPasswordBank',
    name: 'Sandbox Password Bank',
    country: 'DK',
    currency: 'DKK',
    bankCode: '9901',
    loginMethod: 'Password',
    numericPassword: false,
    requiresSupervisedUpdate: false,
    colour: '#374151',
    mark: 'PW',
  },
  {
    id: 'SandboxOtpBank',
    name: 'Sandbox One-Time Code Bank',
    country: 'SE',
    currency: 'SEK',
    bankCode: '9960',
    loginMethod: 'PasswordAndOtp',
    numericPassword: false,
    // The code is needed at every login, so Ferry cannot update without the user.
    requiresSupervisedUpdate: true,
    colour: '#9a4508',
    mark: 'OTP',
  },
  {
    id: 'SandboxAppBank',
    name: 'Sandbox App Bank',
    country: 'NO',
    currency: 'NOK',
    bankCode: '9930',
    loginMethod: 'Decoupled',
    numericPassword: false,
    requiresSupervisedUpdate: false,
    colour: '#0e6d86',
    mark: 'APP',
  },
  {
    id: 'SandboxRedirectBank',
    name: 'Sandbox Redirect Bank',
    country: 'DE',
    currency: 'EUR',
    bankCode: '10099970',
    loginMethod: 'Redirect',
    numericPassword: false,
    requiresSupervisedUpdate: false,
    colour: '#6d28d9',
    mark: 'RD',
  },
];
