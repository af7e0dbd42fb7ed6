import type { AccountWireRow, TransactionWireRow } from './data-store.js';
import { minorToNumber, toWireMoney } from './money.js';

/** Account as Aiia clients read it (aiia-api.md §4), legacy flat fields included. */
export function serializeAccount(row: AccountWireRow, providerName: string) {
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
    lastSynchronized: row.last_synchronized === null ? null : isoTime(Number(row.last_synchronized)),
    syncStatus: row.sync_status,
    isOrphaned: row.is_orphaned === 1,
    groupId: row.group_id,
    groupName: row.group_name,
  };
}

/** Transaction as Aiia clients read it, legacy `amount`/`currency` included. */
export function serializeTransaction(row: TransactionWireRow, accountId: string) {
  const amount = Number(row.amount_minor);
  const detail =
    row.value_date === null && row.counterparty_name === null ? null : { valueDate: row.value_date, counterpartyName: row.counterparty_name };
  return {
    id: row.id,
    accountId,
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
    creationDate: isoTime(Number(row.created_at)),
  };
}

// A page's rows mostly share one sync's creation time and a handful of categories: both are
// remembered rather than formatted again for every row.
let lastTime = Number.NaN;
let lastIso = '';

function isoTime(ms: number): string {
  if (ms !== lastTime) {
    lastIso = new Date(ms).toISOString();
    lastTime = ms;
  }
  return lastIso;
}

const CATEGORY_NAMES_KEPT = 1000;
const categoryNames = new Map<string, string>();

function categoryName(id: string): string {
  let name = categoryNames.get(id);
  if (name === undefined) {
    name = id.replace(/[-_]/g, ' ').replace(/^\w/, (c) => c.toUpperCase());
    if (categoryNames.size >= CATEGORY_NAMES_KEPT) categoryNames.clear();
    categoryNames.set(id, name);
  }
  return name;
}
