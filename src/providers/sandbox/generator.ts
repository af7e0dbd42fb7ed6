import type { BankAccount, BankTransaction } from '../types.js';
import { generateAccountNumber, maskedPan, type AccountNumber, type SandboxCountry } from './account-numbers.js';
import {
  DAY_MS,
  businessDayOnOrAfter,
  businessDayOnOrBefore,
  civilFromDays,
  daysInMonth,
  epochDay,
  firstDayOfMonth,
  isWeekend,
  isoDate,
  monthIndexOfDay,
} from './calendar.js';
import { COUNTRIES, type AccountKind, type CountryProfile, type MerchantCategory, type Subscription } from './countries.js';
import { Rng, digest, subSeed, unitFromSeed } from './prng.js';
import type { DataScenario } from './scenarios.js';

/**
 * The sandbox banks' data: a pure function of (bank, user reference, scenario, connection time, now).
 *
 * Every transaction belongs to an absolute calendar day and is generated from a seed for that day,
 * so an old transaction never changes when the clock moves: only new days appear, and Reserved
 * card purchases book. Running balances need no history before the window: each month opens at a
 * balance defined by the month before it (a "sweep" on the 1st brings the current account to a
 * target and moves the rest to or from savings; the credit card's bill is paid on the 5th), so
 * balances reconcile to the cent across any window, with one extra month generated at most.
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
  /** The slot the connection was made in (scenario slots count from it). */
  firstSlot: number;
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

// Kinds of generated entries; they decide the texts and the transaction type.
const CARD = 0;
const SALARY = 1;
const RENT = 2;
const DIRECT_DEBIT = 3;
const UTILITY = 4;
const P2P_IN = 5;
const P2P_OUT = 6;
const CASH = 7;
const FEE = 8;
const INTEREST = 9;
const SETTLEMENT = 10;
const INCOME = 11;
const PREAUTH = 12;

/** One generated entry; materialised into a `BankTransaction` only when it is returned. */
interface Entry {
  /** Booking day (epoch days). */
  day: number;
  purchaseDay: number;
  /** When the entry is booked, and from when it shows as Reserved before (-1: never Reserved). */
  bookedAt: number;
  pendingFrom: number;
  /** uint32 key; the transaction id is derived from it and the account seed. */
  key: number;
  amount: number;
  kind: number;
  name: string;
  category: string;
  balance: number;
}

const PENDING_BIT = 1 << 30;
const SLOT_BIT = 2 ** 31;
const MASK_30 = 0x3fffffff;

/** Price ranges in Danish kroner, scaled by the country's price factor. */
const PRICE_RANGES: Record<MerchantCategory, readonly [number, number]> = {
  groceries: [35, 850],
  transport: [24, 550],
  restaurants: [45, 650],
  shopping: [99, 2_400],
  health: [29, 450],
  travel: [450, 6_500],
  online: [79, 1_200],
  cafe: [25, 85],
};

const CATEGORY_NAMES: Record<MerchantCategory, string> = {
  groceries: 'Groceries',
  transport: 'Transport',
  restaurants: 'Restaurants',
  shopping: 'Shopping',
  health: 'Health',
  travel: 'Travel',
  online: 'Shopping',
  cafe: 'Restaurants',
};

/** The account kinds of the `manyaccounts` user after the first three. */
const MANY_KINDS: readonly AccountKind[] = ['current', 'savings', 'savings', 'current', 'credit', 'savings'];

function seedOf(bytes: Buffer, offset: number): number {
  return bytes.readUInt32BE(offset);
}

/** The profile of a bank's user: same reference, same person, salary and habits. */
export function userProfile(bank: SandboxBankProfile, reference: string): UserProfile {
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
      firstSlot: Math.floor(createdAt / SCENARIO_SLOT_MS),
    };
  });
}

// ---------------------------------------------------------------------------------------------
// Balances month by month

/** The balance the month's settlement brings the account to (credit cards: paid in full). */
function monthTarget(plan: AccountPlan, monthIndex: number): number {
  const user = plan.user;
  const roundTo = user.country.roundTo * 100;
  const u = unitFromSeed(subSeed(plan.seed, monthIndex));
  switch (plan.kind) {
    case 'current':
      return Math.round((user.salary * (0.85 + 0.3 * u)) / roundTo) * roundTo;
    case 'business':
      return Math.round((user.salary * (1.5 + 0.5 * u)) / roundTo) * roundTo;
    case 'savings': {
      // Savings grow by a monthly amount from January 2020 on, with some noise.
      const months = Math.max(0, monthIndex - 2020 * 12);
      return user.savingsBase + user.savingsGrowth * months + Math.round((user.salary * 0.04 * (u - 0.5)) / roundTo) * roundTo;
    }
    case 'credit':
      return 0;
  }
}

/** The day of the month's settlement: the 1st (sweeps), or the first weekday from the 5th (card bill). */
function settlementDay(plan: AccountPlan, monthIndex: number): number {
  const first = firstDayOfMonth(monthIndex);
  return plan.kind === 'credit' ? businessDayOnOrAfter(first + 4) : first;
}

function paydayOf(country: CountryProfile, monthIndex: number): number {
  const first = firstDayOfMonth(monthIndex);
  if (country.payday === 'last') return businessDayOnOrBefore(first + daysInMonth(monthIndex) - 1);
  return businessDayOnOrBefore(first + country.payday - 1);
}

// ---------------------------------------------------------------------------------------------
// Entries day by day

const rng = new Rng();

function price(category: MerchantCategory, country: CountryProfile): number {
  const [min, max] = PRICE_RANGES[category];
  const r = rng.next();
  // Skewed towards small amounts, as most card purchases are.
  return -Math.max(1, Math.round((min + (max - min) * r * r) * country.priceFactor * 100));
}

/** Days between a card purchase and its booking: mostly one or two. */
function cardLag(): number {
  const r = rng.next();
  return r < 0.15 ? 0 : r < 0.6 ? 1 : r < 0.9 ? 2 : 3;
}

class MonthBuilder {
  readonly entries: Entry[] = [];
  private seq = 0;
  private day = 0;

  constructor(private readonly plan: AccountPlan) {}

  startDay(day: number): void {
    this.day = day;
    this.seq = 0;
    rng.reseed(subSeed(this.plan.seed, day));
  }

  add(kind: number, amount: number, name: string, category: string, lag = 0): Entry {
    const day = this.day;
    const purchaseDay = day - lag;
    const entry: Entry = {
      day,
      purchaseDay,
      bookedAt: day * DAY_MS,
      pendingFrom: lag > 0 ? purchaseDay * DAY_MS : -1,
      key: (day << 8) | this.seq++,
      amount,
      kind,
      name,
      category,
      balance: 0,
    };
    this.entries.push(entry);
    return entry;
  }

  card(category: MerchantCategory): void {
    const country = this.plan.user.country;
    const name = rng.pick(country.merchants[category]);
    this.add(CARD, price(category, country), name, CATEGORY_NAMES[category], cardLag());
  }
}

/** Exactly 20,000 entries in any 731 consecutive days: 27 a day, 28 on 263 days of every 731. */
export function businessEntriesOn(day: number): number {
  const cycle = HISTORY_DAYS + 1;
  return 27 + ((((day % cycle) + cycle) % cycle) < LONG_HISTORY_TRANSACTIONS - 27 * cycle ? 1 : 0);
}

/** What a month's days have in common: computed once per month, not once per day. */
interface MonthDays {
  index: number;
  first: number;
  settlement: number;
  payday: number;
  rentDay: number;
  utilityDay: number;
  /** Last weekday of a quarter's last month (the current account's fee), or -1. */
  feeDay: number;
  /** Last day of a quarter's last month (the savings interest), or -1. */
  quarterEnd: number;
  season: number;
}

function monthDays(plan: AccountPlan, monthIndex: number): MonthDays {
  const first = firstDayOfMonth(monthIndex);
  const next = firstDayOfMonth(monthIndex + 1);
  const month = monthIndex % 12;
  const quarterLast = month % 3 === 2;
  return {
    index: monthIndex,
    first,
    settlement: settlementDay(plan, monthIndex),
    payday: paydayOf(plan.user.country, monthIndex),
    rentDay: businessDayOnOrAfter(first),
    utilityDay: businessDayOnOrAfter(first + 9),
    feeDay: quarterLast ? businessDayOnOrBefore(next - 1) : -1,
    quarterEnd: quarterLast ? next - 1 : -1,
    // Electricity costs more in winter.
    season: month <= 1 || month >= 10 ? 1.4 : month >= 5 && month <= 7 ? 0.7 : 1,
  };
}

function generateDay(plan: AccountPlan, b: MonthBuilder, day: number, m: MonthDays): Entry | null {
  const user = plan.user;
  const country = user.country;
  b.startDay(day);
  let settlementEntry: Entry | null = null;
  if (day === m.settlement) settlementEntry = b.add(SETTLEMENT, 0, '', plan.kind === 'credit' ? 'CreditCardPayment' : 'Savings');

  switch (plan.kind) {
    case 'current': {
      if (day === m.payday) b.add(SALARY, user.salary, user.employer, 'Salary');
      if (day === m.rentDay) b.add(RENT, -user.rent, user.landlord, 'Rent');
      if (day === m.utilityDay) b.add(UTILITY, -Math.round(user.electricity * m.season * (0.85 + rng.next() * 0.3)), country.electricity, 'Utilities');
      const dayOfMonth = day - m.first + 1;
      for (const { subscription, dayOfMonth: due } of user.subscriptions) {
        if (due !== dayOfMonth) continue;
        if (subscription.channel === 'Card') b.add(CARD, -subscription.minor, subscription.name, subscription.category, 1);
        else b.add(DIRECT_DEBIT, -subscription.minor, subscription.name, subscription.category);
      }
      if (day === m.feeDay) b.add(FEE, -Math.round(3_000 * country.priceFactor), country.texts.fee, 'Fees');
      const weekend = isWeekend(day);
      if (rng.chance(0.55)) b.card('groceries');
      if (rng.chance(0.12)) b.card('groceries');
      if (rng.chance(weekend ? 0.15 : 0.45)) b.card('transport');
      if (rng.chance(weekend ? 0.35 : 0.15)) b.card('restaurants');
      if (rng.chance(0.05)) b.card('shopping');
      if (rng.chance(0.03)) b.card('health');
      if (rng.chance(0.08)) {
        const incoming = rng.chance(0.4);
        const name = `${rng.pick(country.firstNames)} ${rng.pick(country.lastNames)}`;
        const amount = Math.round((50 + rng.int(450)) * country.priceFactor) * 100;
        b.add(incoming ? P2P_IN : P2P_OUT, incoming ? amount : -amount, name, 'Transfers');
      }
      if (rng.chance(0.015)) b.add(CASH, -Math.round((2 + rng.int(9)) * 100 * country.priceFactor) * 100, user.city, 'Cash');
      break;
    }
    case 'credit': {
      if (rng.chance(0.12)) b.card('online');
      if (rng.chance(0.06)) b.card('restaurants');
      if (rng.chance(0.04)) b.card('shopping');
      if (rng.chance(0.015)) b.card('travel');
      break;
    }
    case 'savings': {
      if (day === m.quarterEnd) {
        const interest = Math.round((monthTarget(plan, m.index) * user.savingsRatePerMille) / 4000);
        if (interest > 0) b.add(INTEREST, interest, country.texts.interest, 'Interest');
      }
      break;
    }
    case 'business': {
      const count = businessEntriesOn(day) - (settlementEntry === null ? 0 : 1);
      for (let i = 0; i < count; i++) {
        const r = rng.next();
        if (r < 0.4) {
          const name = `${rng.pick(country.firstNames)} ${rng.pick(country.lastNames)}`;
          b.add(INCOME, Math.round((150 + rng.int(1_050)) * country.priceFactor * 100), name, 'Income');
        } else if (r < 0.9) {
          b.card(r < 0.6 ? 'groceries' : r < 0.75 ? 'online' : r < 0.85 ? 'transport' : 'shopping');
        } else {
          const sub = rng.pick(country.subscriptions);
          b.add(DIRECT_DEBIT, -sub.minor, sub.name, sub.category);
        }
      }
      break;
    }
  }
  return settlementEntry;
}

/** The `pending2booked` user's extra purchases booked in a month: one per slot, booked at the next slot. */
function slotPurchases(plan: AccountPlan, monthIndex: number): Entry[] {
  const first = firstDayOfMonth(monthIndex) * DAY_MS;
  const end = firstDayOfMonth(monthIndex + 1) * DAY_MS;
  const out: Entry[] = [];
  const country = plan.user.country;
  for (let i = 0; i < PENDING_TO_BOOKED_SLOTS; i++) {
    const slot = plan.firstSlot + i;
    const bookedAt = (slot + 1) * SCENARIO_SLOT_MS;
    if (bookedAt < first) continue;
    if (bookedAt >= end) break;
    rng.reseed(subSeed(plan.seed ^ 0x2545f491, slot));
    const pendingFrom = slot * SCENARIO_SLOT_MS;
    out.push({
      day: epochDay(bookedAt),
      purchaseDay: epochDay(pendingFrom),
      bookedAt,
      pendingFrom,
      key: (SLOT_BIT + (slot & MASK_30)) >>> 0,
      amount: price('cafe', country),
      kind: CARD,
      name: rng.pick(country.merchants.cafe),
      category: 'Restaurants',
      balance: 0,
    });
  }
  return out;
}

interface Month {
  entries: Entry[];
  /** Sum of every entry but the settlement. */
  sum: number;
}

function generateMonth(plan: AccountPlan, monthIndex: number, opening: number): Month {
  const b = new MonthBuilder(plan);
  const days = monthDays(plan, monthIndex);
  const last = days.first + daysInMonth(monthIndex);
  const extras = plan.special === 'pending2booked' ? slotPurchases(plan, monthIndex) : [];
  let next = 0;
  let settlementEntry: Entry | null = null;
  for (let day = days.first; day < last; day++) {
    settlementEntry = generateDay(plan, b, day, days) ?? settlementEntry;
    // Slot purchases book during the day, after the day's ordinary entries.
    while (next < extras.length && extras[next]!.day === day) b.entries.push(extras[next++]!);
  }
  // The settlement's amount is still 0 here, so the sum is that of every other entry.
  let sum = 0;
  for (const entry of b.entries) sum += entry.amount;
  if (settlementEntry !== null) {
    // Opening + settlement = the month's target (cards: the bill of the month before is paid).
    settlementEntry.amount = monthTarget(plan, monthIndex) - opening;
    // Nothing to move (a card with nothing to pay): no transaction. The business account keeps
    // its entry, so that its count per day stays exact.
    if (settlementEntry.amount === 0 && plan.kind !== 'business') b.entries.splice(b.entries.indexOf(settlementEntry), 1);
  }
  return { entries: b.entries, sum };
}

/** Opening balance of `monthIndex`: the target the month before settled to, plus what followed. */
function openingBalance(plan: AccountPlan, monthIndex: number): number {
  return monthTarget(plan, monthIndex - 1) + generateMonth(plan, monthIndex - 1, 0).sum;
}

export interface Ledger {
  /** Booked entries visible at `now`, oldest first, with running balances. */
  booked: Entry[];
  /** Reserved entries visible at `now` (card purchases not yet booked), oldest first. */
  reserved: Entry[];
  /** Balance after the newest booked entry. */
  bookedBalance: number;
}

/**
 * Booked and Reserved entries whose date is in [fromDay, toDay], as the bank shows them at `now`.
 * Generates from the month before `fromDay` (for the opening balance) to three days past today
 * (card purchases made up to today that book later show as Reserved).
 */
export function buildLedger(plan: AccountPlan, fromDay: number, toDay: number, now: number): Ledger {
  const today = epochDay(now);
  const from = Math.max(fromDay, today - HISTORY_DAYS);
  const to = Math.min(toDay, today);
  const booked: Entry[] = [];
  const reserved: Entry[] = [];
  if (from > to) return { booked, reserved, bookedBalance: 0 };
  const firstMonth = monthIndexOfDay(from);
  const lastMonth = monthIndexOfDay(to >= today - 3 ? today + 3 : to);
  let opening = openingBalance(plan, firstMonth);
  let bookedBalance = opening;
  for (let m = firstMonth; m <= lastMonth; m++) {
    const month = generateMonth(plan, m, opening);
    let running = opening;
    for (const entry of month.entries) {
      running += entry.amount;
      entry.balance = running;
      if (entry.bookedAt <= now) {
        bookedBalance = running;
        if (entry.day >= from && entry.day <= to) booked.push(entry);
      } else if (entry.pendingFrom >= 0 && entry.pendingFrom <= now && entry.purchaseDay >= from && entry.purchaseDay <= to) {
        reserved.push(entry);
      }
    }
    opening = monthTarget(plan, m) + month.sum;
  }
  if (plan.special === 'removed') {
    const preauth = preauthorisation(plan, now);
    if (preauth !== null && preauth.purchaseDay >= from && preauth.purchaseDay <= to) reserved.push(preauth);
  }
  reserved.sort((a, b) => a.purchaseDay - b.purchaseDay || a.pendingFrom - b.pendingFrom || a.key - b.key);
  return { booked, reserved, bookedBalance };
}

/**
 * The `removed` user's reservation: each slot from the login on holds a new one, and the bank
 * releases it when the slot ends, so it disappears from the next fetch.
 */
function preauthorisation(plan: AccountPlan, now: number): Entry | null {
  const slot = Math.floor(now / SCENARIO_SLOT_MS);
  if (slot < plan.firstSlot) return null;
  const country = plan.user.country;
  rng.reseed(subSeed(plan.seed ^ 0x68e31da4, slot));
  const pendingFrom = slot * SCENARIO_SLOT_MS;
  return {
    day: epochDay(pendingFrom),
    purchaseDay: epochDay(pendingFrom),
    bookedAt: Number.POSITIVE_INFINITY,
    pendingFrom,
    key: (SLOT_BIT + PENDING_BIT + (slot & MASK_30)) >>> 0,
    amount: -Math.round(1_000 * country.priceFactor) * 100,
    kind: PREAUTH,
    name: rng.pick(country.merchants.transport),
    category: 'Transport',
    balance: 0,
  };
}

// ---------------------------------------------------------------------------------------------
// Materialising

function hex8(value: number): string {
  return (value >>> 0).toString(16).padStart(8, '0');
}

function transactionId(plan: AccountPlan, key: number): string {
  // A bijection of the key within the account (mix of key xor seed), so ids never collide.
  let h = (key ^ plan.seed) >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return plan.txPrefix + hex8(h);
}

const TYPES: Record<number, BankTransaction['type']> = {
  [CARD]: 'Card',
  [SALARY]: 'Salary',
  [RENT]: 'Transfer',
  [DIRECT_DEBIT]: 'DirectDebit',
  [UTILITY]: 'DirectDebit',
  [P2P_IN]: 'Transfer',
  [P2P_OUT]: 'Transfer',
  [CASH]: 'Cash',
  [FEE]: 'Fee',
  [INTEREST]: 'Interest',
  [SETTLEMENT]: 'Transfer',
  [INCOME]: 'Transfer',
  [PREAUTH]: 'Card',
};

function texts(plan: AccountPlan, entry: Entry): { text: string; originalText: string; counterparty: string | null } {
  const user = plan.user;
  const t = user.country.texts;
  const upper = (text: string) => text.toLocaleUpperCase('en');
  switch (entry.kind) {
    case CARD: {
      const { day, month } = civilFromDays(entry.purchaseDay);
      const dd = day < 10 ? `0${day}` : String(day);
      const mm = month < 10 ? `0${month}` : String(month);
      return { text: entry.name, originalText: t.cardRaw(entry.name, user.city, dd, mm), counterparty: entry.name };
    }
    case SALARY:
      return { text: t.salary, originalText: t.salaryRaw(entry.name), counterparty: entry.name };
    case RENT:
      return { text: t.rent, originalText: t.rentRaw(entry.name), counterparty: entry.name };
    case DIRECT_DEBIT:
    case UTILITY:
      return { text: entry.name, originalText: t.directDebitRaw(entry.name), counterparty: entry.name };
    case P2P_IN:
    case P2P_OUT:
      return { text: `${user.country.p2p} ${entry.name}`, originalText: upper(`${user.country.p2p} ${entry.name}`), counterparty: entry.name };
    case CASH:
      return { text: t.cash, originalText: t.cashRaw(entry.name), counterparty: null };
    case FEE:
    case INTEREST:
      return { text: entry.name, originalText: upper(entry.name), counterparty: null };
    case INCOME:
      return { text: `${t.income} ${entry.name}`, originalText: upper(`${t.income} ${entry.name}`), counterparty: entry.name };
    case PREAUTH:
      return { text: `${t.preauthorisation} ${entry.name}`, originalText: upper(`${t.preauthorisation} ${entry.name} ${user.city}`), counterparty: entry.name };
    default: {
      const text =
        plan.kind === 'credit' ? t.cardBillPayment : plan.kind === 'savings' ? (entry.amount >= 0 ? t.fromCurrent : t.toCurrent) : entry.amount < 0 ? t.toSavings : t.fromSavings;
      return { text, originalText: upper(text), counterparty: user.owner };
    }
  }
}

function toTransaction(plan: AccountPlan, entry: Entry, state: 'Booked' | 'Reserved'): BankTransaction {
  const { text, originalText, counterparty } = texts(plan, entry);
  const pendingKey = (entry.key | PENDING_BIT) >>> 0;
  const transaction: BankTransaction = {
    id: transactionId(plan, state === 'Booked' ? entry.key : pendingKey),
    date: isoDate(state === 'Booked' ? entry.day : entry.purchaseDay),
    valueDate: state === 'Booked' ? isoDate(entry.purchaseDay) : null,
    text,
    originalText,
    amount: { currency: plan.currency, minor: entry.amount },
    balance: state === 'Booked' ? { currency: plan.currency, minor: entry.balance } : null,
    state,
    type: TYPES[entry.kind] ?? 'Other',
    counterpartyName: counterparty,
    category: entry.category,
  };
  if (state === 'Booked' && entry.pendingFrom >= 0) transaction.pendingId = transactionId(plan, pendingKey);
  return transaction;
}

/** The account as the bank shows it at `now`: balances agree with the transactions to the cent. */
export function accountView(plan: AccountPlan, now: number): BankAccount {
  const today = epochDay(now);
  // Card purchases book at most three days after they were made: older ones are all booked.
  const ledger = buildLedger(plan, today - 3, today, now);
  let reservedSum = 0;
  for (const entry of ledger.reserved) reservedSum += entry.amount;
  const booked = ledger.bookedBalance;
  const available = plan.kind === 'savings' ? booked : plan.kind === 'credit' ? plan.creditLimit + booked + reservedSum : booked + reservedSum;
  const number = plan.number;
  return {
    id: plan.id,
    name: plan.name,
    owner: plan.user.owner,
    type: plan.kind === 'savings' ? 'Savings' : plan.kind === 'credit' ? 'Credit' : 'Consumption',
    currency: plan.currency,
    booked: { currency: plan.currency, minor: booked },
    available: { currency: plan.currency, minor: available },
    bban: number?.bban ?? null,
    bbanParsed: number?.bbanParsed ?? null,
    bbanType: number?.bbanType ?? null,
    iban: number?.iban ?? null,
    card: plan.card,
  };
}

/** Transactions dated in [fromDay, toDay], newest first; Reserved before Booked on the same date. */
export function transactionsView(plan: AccountPlan, fromDay: number, toDay: number, now: number): BankTransaction[] {
  const { booked, reserved } = buildLedger(plan, fromDay, toDay, now);
  const out: BankTransaction[] = new Array(booked.length + reserved.length);
  let b = booked.length - 1;
  let r = reserved.length - 1;
  let i = 0;
  while (b >= 0 || r >= 0) {
    if (r >= 0 && (b < 0 || reserved[r]!.purchaseDay >= booked[b]!.day)) out[i++] = toTransaction(plan, reserved[r--]!, 'Reserved');
    else out[i++] = toTransaction(plan, booked[b--]!, 'Booked');
  }
  return out;
}

/** For tests: the first day of the history window at `now`. */
export function historyStart(now: number): string {
  return isoDate(epochDay(now) - HISTORY_DAYS);
}

