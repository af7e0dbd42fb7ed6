import { DAY_MS, businessDayOnOrAfter, businessDayOnOrBefore, daysInMonth, epochDay, firstDayOfMonth, isWeekend } from './calendar.js';
import type { AccountPlan } from './accounts.js';
import type { CountryProfile, MerchantCategory } from './countries.js';
import { Rng, subSeed, unitFromSeed } from './prng.js';
import { HISTORY_DAYS, LONG_HISTORY_TRANSACTIONS, PENDING_TO_BOOKED_SLOTS, SCENARIO_SLOT_MS } from './scenarios.js';

/**
 * A sandbox account's entries, month by month. Every entry belongs to an absolute calendar day and
 * is generated from a seed for that day, so an old entry never changes when the clock moves. Each
 * month opens at a balance the month before defines: a settlement on the 1st brings the current,
 * business and savings accounts to the month's target (a transfer to or from savings), and the
 * credit card's bill of the month before is paid from the 5th.
 */

// Kinds of generated entries; they decide the texts and the transaction type.
export const CARD = 0;
export const SALARY = 1;
export const RENT = 2;
export const DIRECT_DEBIT = 3;
export const UTILITY = 4;
export const P2P_IN = 5;
export const P2P_OUT = 6;
export const CASH = 7;
export const FEE = 8;
export const INTEREST = 9;
export const SETTLEMENT = 10;
export const INCOME = 11;
export const PREAUTH = 12;

/** One generated entry; materialised into a `BankTransaction` only when it is returned. */
export interface Entry {
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

/** Key bits: the Reserved form of an entry, and the scenario users' per-slot entries. */
export const PENDING_BIT = 1 << 30;
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

/** The balance the month's settlement brings the account to (credit cards: paid in full). */
export function monthTarget(plan: AccountPlan, monthIndex: number): number {
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

const rng = new Rng();

function price(category: MerchantCategory, country: CountryProfile): number {
  const [min, max] = PRICE_RANGES[category];
  const r = rng.next();
  // Skewed towards small amounts, as most card purchases are.
  return -Math.max(1, Math.round((min + (max - min) * r * r) * country.priceFactor * 100));
}

/** A card purchase books at most this many days after it was made. */
export const MAX_CARD_LAG_DAYS = 3;

/** Days between a card purchase and its booking: mostly one or two. */
function cardLag(): number {
  const r = rng.next();
  return r < 0.15 ? 0 : r < 0.6 ? 1 : r < 0.9 ? 2 : MAX_CARD_LAG_DAYS;
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
  const firstSlot = Math.floor(plan.createdAt / SCENARIO_SLOT_MS);
  for (let i = 0; i < PENDING_TO_BOOKED_SLOTS; i++) {
    const slot = firstSlot + i;
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

export interface Month {
  entries: Entry[];
  /** Sum of every entry but the settlement. */
  sum: number;
}

export function generateMonth(plan: AccountPlan, monthIndex: number, opening: number): Month {
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
    // The month then closes at its target plus everything else it holds, whatever the window
    // (for a card, target 0: the settlement pays the bill of the month before).
    settlementEntry.amount = monthTarget(plan, monthIndex) - opening;
    // Nothing to move (a card with nothing to pay): no transaction. The business account keeps
    // its entry, so that its count per day stays exact.
    if (settlementEntry.amount === 0 && plan.kind !== 'business') b.entries.splice(b.entries.indexOf(settlementEntry), 1);
  }
  return { entries: b.entries, sum };
}

/**
 * The `removed` user's reservation: each slot from the login on holds a new one, and the bank
 * releases it when the slot ends, so it disappears from the next fetch.
 */
export function preauthorisation(plan: AccountPlan, now: number): Entry | null {
  const slot = Math.floor(now / SCENARIO_SLOT_MS);
  if (slot < Math.floor(plan.createdAt / SCENARIO_SLOT_MS)) return null;
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
