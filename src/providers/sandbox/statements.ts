import type { BankAccount, BankTransaction } from '../types.js';
import type { AccountPlan } from './accounts.js';
import { civilFromDays, epochDay, isoDate } from './calendar.js';
import { CARD, CASH, MAX_CARD_LAG_DAYS, DIRECT_DEBIT, FEE, INCOME, INTEREST, P2P_IN, P2P_OUT, PENDING_BIT, PREAUTH, RENT, SALARY, SETTLEMENT, UTILITY, type Entry } from './entries.js';
import { buildLedger } from './ledger.js';
import { mix32 } from './prng.js';

/**
 * The sandbox data as the provider interface returns it: accounts with their balances, and
 * transactions with their texts in the bank country's language, ids, states and running balances.
 */

function hex8(value: number): string {
  return (value >>> 0).toString(16).padStart(8, '0');
}

function transactionId(plan: AccountPlan, key: number): string {
  // A bijection of the key within the account, so two entries never share an id.
  return plan.txPrefix + hex8(mix32(key ^ plan.seed));
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
  // Card purchases book at most a few days after they were made: older ones are all booked.
  const ledger = buildLedger(plan, today - MAX_CARD_LAG_DAYS, today, now);
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

