import { minorDigits } from '../../data/money.js';
import { sha256 } from '../../crypto.js';
import { BankAnswerInvalidError } from '../errors.js';
import type { BankAccount, BankTransaction, Money } from '../types.js';
import type { AccountDetails, Amount, Balance, Transaction } from './xs2a-model.js';

/**
 * From the Berlin Group's model to Ferry's: accounts with their balances, and transactions with
 * their booked or pending state, booking and value dates, counterparty and the bank's remittance text,
 * money as integer minor units. What the model cannot say (a category) stays empty; nothing is guessed
 * that the bank did not send.
 */

const AMOUNT = /^(-?)(\d{1,14})(?:\.(\d{1,3}))?$/;

/** `"-12.50"` EUR → -1250: exact, and refused when the bank sends more decimals than the currency has. */
export function toMoney(amount: Amount, where: string): Money {
  const match = AMOUNT.exec(amount.amount);
  const digits = minorDigits(amount.currency);
  const fraction = match?.[3] ?? '';
  if (match === null || /[1-9]/.test(fraction.slice(digits))) throw new BankAnswerInvalidError('the bank sent an amount Ferry cannot hold exactly', [`${where}: not an amount in ${amount.currency}`]);
  const minor = Number(`${match[2]}${fraction.slice(0, digits).padEnd(digits, '0')}`);
  if (!Number.isSafeInteger(minor)) throw new BankAnswerInvalidError('the bank sent an amount out of range', [`${where}: out of range`]);
  return { currency: amount.currency, minor: match[1] === '-' && minor !== 0 ? -minor : minor };
}

/** Minor units → the model's decimal string (`-1250` EUR → `"-12.50"`). */
export function toAmount(money: Money): Amount {
  const digits = minorDigits(money.currency);
  const sign = money.minor < 0 ? '-' : '';
  const text = String(Math.abs(money.minor)).padStart(digits + 1, '0');
  return { currency: money.currency, amount: digits === 0 ? `${sign}${text}` : `${sign}${text.slice(0, -digits)}.${text.slice(-digits)}` };
}

/**
 * Ferry's id of an account: stable across consents (a bank's `resourceId` need only be stable within
 * one), different for every account, and no account number in clear.
 */
export function stableAccountId(providerId: string, account: AccountDetails): string {
  const identity = account.iban ?? account.bban ?? account.msisdn ?? `resource:${account.resourceId ?? ''}`;
  return sha256(`ferry-xs2a-account\0${providerId}\0${identity.replace(/\s/g, '').toUpperCase()}\0${account.currency}`).slice(0, 32);
}

/** ISO 20022 ExternalCashAccountType1Code → Ferry's account types. */
const ACCOUNT_TYPES: Record<string, BankAccount['type']> = {
  CACC: 'Consumption',
  CASH: 'Consumption',
  TRAN: 'Consumption',
  SLRY: 'Consumption',
  COMM: 'Consumption',
  SVGS: 'Savings',
  MOMA: 'Savings',
  ONDP: 'Savings',
  LLSV: 'Savings',
  CARD: 'Card',
  LOAN: 'Loan',
  MGLD: 'Loan',
  ODFT: 'Credit',
  CHAR: 'Credit',
};

/** National account numbers inside an IBAN: bank code length and Ferry's `bbanType` name. */
const NATIONAL_FORMATS: Record<string, { bankCode: number; type: string }> = {
  DE: { bankCode: 8, type: 'GermanDomestic' },
  DK: { bankCode: 4, type: 'DanishDomestic' },
  NO: { bankCode: 4, type: 'NorwegianDomestic' },
  FI: { bankCode: 6, type: 'FinnishDomestic' },
  AT: { bankCode: 5, type: 'AustrianDomestic' },
  NL: { bankCode: 4, type: 'DutchDomestic' },
};

/** Booked balance, best first: now, then end of the last period. */
const BOOKED: readonly Balance['balanceType'][] = ['interimBooked', 'closingBooked', 'openingBooked'];
/** Available balance, best first. */
const AVAILABLE: readonly Balance['balanceType'][] = ['interimAvailable', 'expected', 'forwardAvailable'];

function pickBalance(balances: readonly Balance[], order: readonly Balance['balanceType'][], currency: string, where: string): Money | null {
  for (const type of order) {
    const balance = balances.find((b) => b.balanceType === type && b.balanceAmount.currency === currency);
    if (balance !== undefined) return toMoney(balance.balanceAmount, `${where} ${type}`);
  }
  return null;
}

export function toBankAccount(providerId: string, account: AccountDetails, balances: readonly Balance[]): BankAccount {
  const iban = account.iban?.replace(/\s/g, '') ?? null;
  const bban = account.bban ?? (iban !== null ? iban.slice(4) : null);
  const national = iban !== null && account.bban === undefined ? NATIONAL_FORMATS[iban.slice(0, 2)] : undefined;
  const where = `account ${account.resourceId ?? ''}`.trim();
  return {
    id: stableAccountId(providerId, account),
    name: account.displayName ?? account.name ?? account.product ?? iban ?? bban ?? account.currency,
    owner: account.ownerName ?? '',
    type: ACCOUNT_TYPES[account.cashAccountType ?? ''] ?? 'Other',
    currency: account.currency,
    booked: pickBalance(balances, BOOKED, account.currency, where),
    available: pickBalance(balances, AVAILABLE, account.currency, where),
    bban,
    bbanParsed: national !== undefined && bban !== null ? { bankCode: bban.slice(0, national.bankCode), accountNumber: bban.slice(national.bankCode) } : null,
    bbanType: national?.type ?? null,
    iban,
    card: null,
  };
}

/** ISO 20022 bank transaction codes (Domain-Family-SubFamily) → Ferry's transaction types. */
function transactionType(transaction: Transaction): BankTransaction['type'] {
  const [domain = '', family = '', sub = ''] = (transaction.bankTransactionCode ?? '').toUpperCase().split('-');
  if (sub === 'SALA' || transaction.purposeCode === 'SALA') return 'Salary';
  if (sub === 'CWDL' || family === 'CDPT' || family === 'CWDL') return 'Cash';
  if (sub === 'CHRG' || sub === 'FEES' || family === 'CHRG') return 'Fee';
  if (sub === 'INTR' || family === 'INTR') return 'Interest';
  if (family === 'CCRD' || family === 'DCRD' || family === 'POSD' || sub === 'POSD' || sub === 'POSC') return 'Card';
  if (family === 'RDDT' || family === 'IDDT') return 'DirectDebit';
  if (domain === 'PMNT' && ['ICDT', 'RCDT', 'IRCT', 'RRCT'].includes(family)) return 'Transfer';
  return 'Other';
}

function remittanceText(transaction: Transaction): string | null {
  const candidates = [
    transaction.remittanceInformationUnstructured,
    transaction.remittanceInformationUnstructuredArray?.join(' '),
    transaction.remittanceInformationStructured,
    transaction.remittanceInformationStructuredArray?.join(' '),
    transaction.additionalInformation,
  ];
  return candidates.map((c) => c?.trim()).find((c): c is string => c !== undefined && c !== '') ?? null;
}

/**
 * One entry of an account report. `state` comes from the list it was in (`booked` or `pending`).
 * `date` is the booking date (for a pending entry, the entry date banks put there), else the value
 * date. `originalText` is the bank's remittance text; `text` the counterparty, or that text.
 */
export function toBankTransaction(transaction: Transaction, state: BankTransaction['state'], today: string, where: string): BankTransaction {
  const amount = toMoney(transaction.transactionAmount, `${where} transactionAmount`);
  // The other side: the creditor of a debit, the debtor of a credit; banks that name only one side
  // (the guidelines' own example names the creditor of a credit) are read by that one.
  const creditor = transaction.creditorName ?? transaction.ultimateCreditor;
  const debtor = transaction.debtorName ?? transaction.ultimateDebtor;
  const counterparty = (amount.minor < 0 ? (creditor ?? debtor) : (debtor ?? creditor))?.trim() || null;
  const remittance = remittanceText(transaction);
  const balance = state === 'Booked' && transaction.balanceAfterTransaction !== undefined && transaction.balanceAfterTransaction.balanceAmount.currency === amount.currency
    ? toMoney(transaction.balanceAfterTransaction.balanceAmount, `${where} balanceAfterTransaction`)
    : null;
  const originalText = remittance ?? counterparty ?? transaction.bankTransactionCode ?? transaction.proprietaryBankTransactionCode ?? '';
  return {
    id: transaction.transactionId ?? transaction.entryReference ?? syntheticId(transaction, state),
    date: transaction.bookingDate ?? transaction.valueDate ?? today,
    valueDate: transaction.valueDate ?? null,
    text: counterparty ?? remittance ?? (originalText || state),
    originalText,
    amount,
    balance,
    state,
    type: transactionType(transaction),
    counterpartyName: counterparty,
    category: null,
  };
}

/** An entry without `transactionId` or `entryReference`: an id from what it says (repeats are told apart later). */
function syntheticId(transaction: Transaction, state: string): string {
  return `x-${sha256(JSON.stringify([state, transaction.bookingDate, transaction.valueDate, transaction.transactionAmount, transaction.creditorName, transaction.debtorName, transaction.remittanceInformationUnstructured])).slice(0, 24)}`;
}

/**
 * The entries of every page, newest first as the provider interface wants: a list the bank gave
 * oldest first is turned round, then entries are ordered by date (pending before booked on a day),
 * keeping the bank's order within a day, which running balances depend on. An entry given twice (on
 * two pages) is kept once; two different entries with one id (synthetic ids alike) get a suffix.
 */
export function newestFirst(booked: BankTransaction[], pending: BankTransaction[]): BankTransaction[] {
  const descending = (list: BankTransaction[]) => (list.length > 1 && list[0]!.date < list[list.length - 1]!.date ? [...list].reverse() : list);
  const all = [...descending(pending), ...descending(booked)];
  const sorted = all
    .map((t, i) => ({ t, i }))
    .sort((a, b) => (a.t.date === b.t.date ? a.i - b.i : a.t.date < b.t.date ? 1 : -1))
    .map(({ t }) => t);
  const seen = new Map<string, { json: string; count: number }>();
  const out: BankTransaction[] = [];
  for (const t of sorted) {
    const json = JSON.stringify(t);
    const first = seen.get(t.id);
    if (first === undefined) {
      seen.set(t.id, { json, count: 1 });
      out.push(t);
    } else if (first.json !== json) {
      out.push({ ...t, id: `${t.id}~${first.count++}` });
    }
  }
  return out;
}
