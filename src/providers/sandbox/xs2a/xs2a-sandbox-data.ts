import { sha256 } from '../../../crypto.js';
import { toAmount } from '../../nextgenpsd2/mapping.js';
import type { AccountDetails, Balance, Transaction } from '../../nextgenpsd2/xs2a-model.js';
import type { BankAccount, BankTransaction } from '../../types.js';
import { planAccounts, type AccountPlan } from '../accounts.js';
import { epochDay, isoDate } from '../calendar.js';
import { digest } from '../prng.js';
import { normaliseUsername, scenarioFor } from '../scenarios.js';
import { accountView, transactionsView } from '../statements.js';
import { XS2A_SANDBOX_BANK } from './sandbox-xs2a-banks.js';

/**
 * The simulated bank's customers, from the sandbox's generator (same people, same habits, the same
 * scenario users), written in the Berlin Group's model: payment accounts with IBANs (card accounts
 * belong to `/v1/card-accounts`, which this bank does not offer), balances, and transactions with
 * their booking and value dates, counterparty, remittance text, ISO 20022 bank transaction code and
 * the balance after each booked entry.
 */

/** An account under one consent: `resourceId` differs from consent to consent, as at many banks. */
export interface SandboxXs2aAccount {
  plan: AccountPlan;
  resourceId: string;
}

export function sandboxCustomerAccounts(psuId: string, consentId: string, since: number): SandboxXs2aAccount[] {
  const reference = digest('ferry-xs2a-sandbox-user', normaliseUsername(psuId)).toString('base64url');
  const scenario = scenarioFor(psuId);
  return planAccounts(XS2A_SANDBOX_BANK, reference, scenario?.data ?? 'standard', since)
    .filter((plan) => plan.number !== null)
    .map((plan) => ({ plan, resourceId: sha256(`ferry-xs2a-resource\0${consentId}\0${plan.id}`).slice(0, 22) }));
}

const CASH_ACCOUNT_TYPES: Record<AccountPlan['kind'], string> = { current: 'CACC', savings: 'SVGS', credit: 'CARD', business: 'CACC' };

export function accountDetails(account: SandboxXs2aAccount, links: { balances: string; transactions: string }, balances?: Balance[]): AccountDetails {
  const { plan } = account;
  return {
    resourceId: account.resourceId,
    iban: plan.number!.iban,
    currency: plan.currency,
    name: plan.name.slice(0, 70),
    product: plan.kind === 'savings' ? 'Tagesgeld' : plan.kind === 'business' ? 'Geschäftskonto' : 'Girokonto',
    cashAccountType: CASH_ACCOUNT_TYPES[plan.kind],
    status: 'enabled',
    usage: plan.kind === 'business' ? 'ORGA' : 'PRIV',
    ownerName: plan.user.owner.slice(0, 140),
    ...(balances !== undefined ? { balances } : {}),
    _links: { balances: { href: links.balances }, transactions: { href: links.transactions } },
  };
}

export function accountBalances(view: BankAccount, now: number): Balance[] {
  const referenceDate = isoDate(epochDay(now));
  const out: Balance[] = [];
  if (view.booked !== null) out.push({ balanceAmount: toAmount(view.booked), balanceType: 'interimBooked', referenceDate });
  if (view.available !== null) out.push({ balanceAmount: toAmount(view.available), balanceType: 'interimAvailable', referenceDate });
  return out;
}

export function currentView(account: SandboxXs2aAccount, now: number): BankAccount {
  return accountView(account.plan, now);
}

/** ISO 20022 Domain-Family-SubFamily codes for the sandbox's kinds of entry. */
function bankTransactionCode(t: BankTransaction): string | undefined {
  switch (t.type) {
    case 'Card':
      return 'PMNT-CCRD-POSD';
    case 'Cash':
      return 'PMNT-CCRD-CWDL';
    case 'Salary':
      return 'PMNT-RCDT-SALA';
    case 'Transfer':
      return t.amount.minor < 0 ? 'PMNT-ICDT-ESCT' : 'PMNT-RCDT-ESCT';
    case 'DirectDebit':
      return 'PMNT-RDDT-ESDD';
    case 'Fee':
      return 'ACMT-MDOP-CHRG';
    case 'Interest':
      return 'ACMT-MDOP-INTR';
    default:
      return undefined;
  }
}

/**
 * One entry as the bank reports it. A pending entry carries its entry date as `bookingDate`, as
 * many banks do ("for pending transactions, the relevant date is the entry date").
 */
export function transactionEntry(t: BankTransaction): Transaction {
  const counterparty = t.counterpartyName?.slice(0, 70);
  const code = bankTransactionCode(t);
  return {
    transactionId: t.id,
    bookingDate: t.date,
    ...(t.valueDate !== null ? { valueDate: t.valueDate } : {}),
    transactionAmount: toAmount(t.amount),
    ...(counterparty !== undefined ? (t.amount.minor < 0 ? { creditorName: counterparty } : { debtorName: counterparty }) : {}),
    remittanceInformationUnstructured: t.originalText.slice(0, 140),
    ...(code !== undefined ? { bankTransactionCode: code } : {}),
    ...(t.state === 'Booked' && t.balance !== null ? { balanceAfterTransaction: { balanceAmount: toAmount(t.balance), balanceType: 'interimBooked' as const } } : {}),
  };
}

/** The account's entries in [from, to], newest first (pending before booked on a day). */
export function accountEntries(account: SandboxXs2aAccount, from: string, to: string, now: number): BankTransaction[] {
  const fromDay = epochDay(Date.parse(`${from}T00:00:00Z`));
  const toDay = epochDay(Date.parse(`${to}T00:00:00Z`));
  return transactionsView(account.plan, fromDay, toDay, now);
}
