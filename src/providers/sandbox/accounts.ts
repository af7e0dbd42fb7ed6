import { generateAccountNumber, maskedPan, type AccountNumber, type SandboxCountry } from './account-numbers.js';
import { COUNTRIES, type AccountKind, type CountryProfile, type Subscription } from './countries.js';
import { Rng, digest, unitFromSeed } from './prng.js';
import { MANY_ACCOUNTS, type DataScenario } from './scenarios.js';

/**
 * Who a sandbox bank's user is and which accounts they have: derived from the bank and the user's
 * reference alone, so the same user always gets the same person, accounts and account numbers.
 */

export interface SandboxBankProfile {
  id: string;
  country: SandboxCountry;
  currency: string;
  /** National bank code its account numbers carry. */
  bankCode: string;
}

/** Everything the generator knows about one account, derived from the connection. */
export interface AccountPlan {
  index: number;
  id: string;
  /** Prefix of this account's transaction ids. */
  txPrefix: string;
  seed: number;
  kind: AccountKind;
  name: string;
  currency: string;
  number: AccountNumber | null;
  card: string | null;
  /** Credit accounts: the limit, minor units. */
  creditLimit: number;
  user: UserProfile;
  /** Scenario behaviour on this account (the first account of `pending2booked` / `removed`). */
  special: 'pending2booked' | 'removed' | null;
  /** When the connection was made (the scenario users' changes count from it). */
  createdAt: number;
}

export interface UserProfile {
  seed: number;
  country: CountryProfile;
  owner: string;
  city: string;
  employer: string;
  landlord: string;
  salary: number;
  rent: number;
  subscriptions: { subscription: Subscription; dayOfMonth: number }[];
  electricity: number;
  savingsBase: number;
  savingsGrowth: number;
  savingsRatePerMille: number;
}

/** The account kinds of the `manyaccounts` user after the first three. */
const MANY_KINDS: readonly AccountKind[] = ['current', 'savings', 'savings', 'current', 'credit', 'savings'];

function seedOf(bytes: Buffer, offset: number): number {
  return bytes.readUInt32BE(offset);
}

/** The profile of a bank's user: same reference, same person, salary and habits. */
function userProfile(bank: SandboxBankProfile, reference: string): UserProfile {
  const seed = seedOf(digest('ferry-sandbox-user-profile', bank.id, reference), 0);
  const country = COUNTRIES[bank.country];
  const rng = new Rng(seed);
  const minor = (major: number) => Math.round(major * 100);
  const roundTo = country.roundTo * 100;
  const salary = Math.round(minor(country.salary[0] + rng.next() * (country.salary[1] - country.salary[0])) / roundTo) * roundTo;
  const rent = Math.round((salary * (0.24 + rng.next() * 0.1)) / roundTo) * roundTo;
  const chosen = country.subscriptions.filter(() => rng.chance(0.6));
  if (chosen.length === 0) chosen.push(country.subscriptions[0]!);
  return {
    seed,
    country,
    owner: `${rng.pick(country.firstNames)} ${rng.pick(country.lastNames)}`,
    city: rng.pick(country.cities),
    employer: rng.pick(country.employers),
    landlord: rng.pick(country.landlords),
    salary,
    rent,
    subscriptions: chosen.map((subscription) => ({ subscription, dayOfMonth: rng.between(1, 28) })),
    electricity: minor(350 * country.priceFactor * (0.7 + rng.next() * 0.8)),
    savingsBase: Math.round((salary * (0.5 + rng.next() * 4)) / roundTo) * roundTo,
    savingsGrowth: Math.round((salary * (0.02 + rng.next() * 0.06)) / roundTo) * roundTo,
    savingsRatePerMille: rng.between(5, 25),
  };
}

function accountKinds(scenario: DataScenario, userSeed: number): AccountKind[] {
  switch (scenario) {
    case 'noaccounts':
      return [];
    case 'longhistory':
      return ['business'];
    case 'manyaccounts':
      return Array.from({ length: MANY_ACCOUNTS }, (_, i) => (i < 3 ? (['current', 'savings', 'credit'] as const)[i]! : MANY_KINDS[(i - 3) % MANY_KINDS.length]!));
    default:
      // One user in four also has a second current account (a budget or joint account).
      return unitFromSeed(userSeed ^ 0x5bd1e995) < 0.25 ? ['current', 'savings', 'credit', 'current'] : ['current', 'savings', 'credit'];
  }
}

/**
 * The accounts of a connection, in a stable order. Account ids are SHA-256 of (bank, user reference,
 * index): stable for the same user, different for every other user, and not guessable from another.
 */
export function planAccounts(bank: SandboxBankProfile, reference: string, scenario: DataScenario, createdAt: number): AccountPlan[] {
  const user = userProfile(bank, reference);
  const kinds = accountKinds(scenario, user.seed);
  const seen: Record<AccountKind, number> = { current: 0, savings: 0, credit: 0, business: 0 };
  return kinds.map((kind, index) => {
    const bytes = digest('ferry-sandbox-account', bank.id, reference, String(index));
    const id = bytes.subarray(0, 16).toString('base64url');
    const seed = seedOf(bytes, 16);
    const rng = new Rng(seedOf(bytes, 20));
    const names = user.country.accountNames[kind];
    const n = seen[kind]++;
    const name = kind === 'credit' ? names[(n + (user.seed % names.length)) % names.length]! : n < names.length ? names[n]! : `${names[n % names.length]} ${Math.floor(n / names.length) + 1}`;
    const isCard = kind === 'credit';
    const roundTo = user.country.roundTo * 100;
    return {
      index,
      id,
      txPrefix: id.slice(0, 10),
      seed,
      kind,
      name,
      currency: bank.currency,
      number: isCard ? null : generateAccountNumber(bank.country, bank.bankCode, rng),
      card: isCard ? maskedPan(rng) : null,
      creditLimit: isCard ? Math.max(roundTo * 50, Math.round((user.salary * (0.5 + rng.next())) / (roundTo * 50)) * roundTo * 50) : 0,
      user,
      special: index === 0 && (scenario === 'pending2booked' || scenario === 'removed') ? scenario : null,
      createdAt,
    };
  });
}
