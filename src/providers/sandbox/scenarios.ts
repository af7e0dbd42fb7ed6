/**
 * The scenario users: usernames that make every sandbox bank behave in one way a real
 * integration must handle. One table, listed in the README; every sandbox bank honours it.
 *
 * A scenario may be followed by `+anything` (`manyaccounts+2`): another user, same behaviour.
 * Usernames are compared trimmed and case-insensitively.
 */

/** How far back a sandbox bank keeps history: the window is [today − 730 days, today]. */
export const HISTORY_DAYS = 730;
/** The `pending2booked` and `removed` users change every this many milliseconds. */
export const SCENARIO_SLOT_MS = 5 * 60_000;
/** For how many slots after the login `pending2booked` keeps making new purchases (24 hours). */
export const PENDING_TO_BOOKED_SLOTS = 288;
/** Booked transactions the `longhistory` user has in every history window. */
export const LONG_HISTORY_TRANSACTIONS = 20_000;
/** Accounts of the `manyaccounts` user. */
export const MANY_ACCOUNTS = 30;

export type ScenarioName =
  | 'wrongpassword'
  | 'locked'
  | 'unavailable'
  | 'slow'
  | 'rejected'
  | 'noaccounts'
  | 'manyaccounts'
  | 'longhistory'
  | 'pending2booked'
  | 'removed';

/** What a scenario does to the data (every other user: `standard`). */
export type DataScenario = 'standard' | 'noaccounts' | 'manyaccounts' | 'longhistory' | 'pending2booked' | 'removed';

/** What a scenario does to the login. */
export type LoginBehaviour = 'normal' | 'wrongPasswordOnce' | 'locked' | 'unavailable' | 'slow' | 'rejected';

export interface Scenario {
  name: ScenarioName;
  login: LoginBehaviour;
  data: DataScenario;
  /** For the README and the docs: what the user sees. */
  description: string;
}

export const SCENARIOS: readonly Scenario[] = [
  {
    name: 'wrongpassword',
    login: 'wrongPasswordOnce',
    data: 'standard',
    description:
      'The first password (the first PIN in the app bank) is refused as wrong (`InvalidCredentials`); the retry in the same login succeeds.',
  },
  { name: 'locked', login: 'locked', data: 'standard', description: 'The login fails: the account is locked (`AccountLocked`, not retryable).' },
  {
    name: 'unavailable',
    login: 'unavailable',
    data: 'standard',
    description: 'The login fails: the bank is unavailable (`BankUnavailable`, retryable; it stays unavailable).',
  },
  {
    name: 'slow',
    login: 'slow',
    data: 'standard',
    description: 'Every login step and every data fetch takes `slowStepMs` (3 seconds by default); then it works.',
  },
  {
    name: 'rejected',
    login: 'rejected',
    data: 'standard',
    description: 'The user rejects the login in the bank app (`RejectedByUser`); at the app bank the phone has already rejected it.',
  },
  { name: 'noaccounts', login: 'normal', data: 'noaccounts', description: 'The login works, but the user has no accounts.' },
  { name: 'manyaccounts', login: 'normal', data: 'manyaccounts', description: 'Thirty accounts: current, savings and credit card accounts.' },
  {
    name: 'longhistory',
    login: 'normal',
    data: 'longhistory',
    description: 'One business account with exactly 20,000 booked transactions in the two-year history window.',
  },
  {
    name: 'pending2booked',
    login: 'normal',
    data: 'pending2booked',
    description:
      'For 24 hours after the login, every 5 minutes a card purchase appears as `Reserved` and is booked at the next 5-minute mark, with `pendingId` pointing at its Reserved id.',
  },
  {
    name: 'removed',
    login: 'normal',
    data: 'removed',
    description: 'Every 5 minutes from the login a new `Reserved` pre-authorisation appears, and the bank removes the previous one.',
  },
];

const BY_NAME = new Map(SCENARIOS.map((scenario) => [scenario.name, scenario]));

/** The form a username is compared in (and the generated data is seeded from). */
export function normaliseUsername(username: string): string {
  return username.trim().normalize('NFC').toLowerCase();
}

/** The scenario a username asks for, or null for an ordinary user. */
export function scenarioFor(username: string): Scenario | null {
  const normalised = normaliseUsername(username);
  const plus = normalised.indexOf('+');
  const name = plus === -1 ? normalised : normalised.slice(0, plus);
  return BY_NAME.get(name as ScenarioName) ?? null;
}

export function scenarioByName(name: string): Scenario | null {
  return BY_NAME.get(name as ScenarioName) ?? null;
}
