import type { AccountRow, TransactionRow } from '../db/schema.js';
import { minorToNumber, toWireMoney } from './money.js';

/** Account as Aiia clients read it (aiia-api.md §4), legacy flat fields included. */
export function serializeAccount(row: AccountRow, providerName: string) {
  const booked = row.booked_minor === null ? null : toWireMoney(Number(row.booked_minor), row.currency);
  const available = row.available_minor === null ? null : toWireMoney(Number(row.available_minor), row.currency);
  return {
    id: row.id,
    name: row.name,
    owner: row.owner,
    type: row.type,
    currency: row.currency,
    available,
    booked,
    availableBalance: available?.value ?? null,
    bookedBalance: booked?.value ?? null,
    accountProvider: { id: row.provider_id, name: providerName },
    number: {
      bban: row.bban,
      bbanParsed: row.bban_bank_code === null && row.bban_account_number === null ? null : { bankCode: row.bban_bank_code, accountNumber: row.bban_account_number },
      bbanType: row.bban_type,
      iban: row.iban,
      card: row.card,
    },
    features: {
      queryable: true,
      paymentFrom: false,
      paymentTo: false,
      psdPaymentAccount: row.type === 'Consumption',
    },
    lastSynchronized: row.last_synchronized === null ? null : new Date(Number(row.last_synchronized)).toISOString(),
    syncStatus: row.sync_status,
    isOrphaned: row.is_orphaned === 1,
    groupId: row.group_id,
    groupName: row.group_name,
  };
}

/** Transaction as Aiia clients read it, legacy `amount`/`currency` included. */
export function serializeTransaction(row: TransactionRow) {
  const amount = Number(row.amount_minor);
  const detail =
    row.value_date === null && row.counterparty_name === null ? null : { valueDate: row.value_date, counterpartyName: row.counterparty_name };
  return {
    id: row.id,
    accountId: row.account_id,
    date: row.date,
    text: row.text,
    originalText: row.original_text,
    transactionAmount: toWireMoney(amount, row.currency),
    balance: row.balance_minor === null ? null : toWireMoney(Number(row.balance_minor), row.currency),
    amount: minorToNumber(amount, row.currency),
    currency: row.currency,
    state: row.state,
    type: row.type,
    detail,
    categories: row.category === null ? [] : [{ id: row.category, name: categoryName(row.category) }],
    isDeleted: row.is_deleted === 1,
    creationDate: new Date(Number(row.created_at)).toISOString(),
  };
}

function categoryName(id: string): string {
  return id.replace(/[-_]/g, ' ').replace(/^\w/, (c) => c.toUpperCase());
}
