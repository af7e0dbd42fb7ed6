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

/*
 * The same answers written straight to JSON text, for the hot list endpoints: `GET /v1/accounts`
 * and the transaction pages. Each is byte for byte `JSON.stringify` of the object above (and so
 * what Fastify's response schema writes: same key order, same numbers, same escapes; the tests
 * compare them), without building the objects first and without fast-json-stringify walking them
 * again: about half of a 50-transaction page's serialization time.
 */

/** Characters `JSON.stringify` escapes in a string: `"`, `\`, control characters, lone surrogates. */
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/** A JSON string literal, as `JSON.stringify(text)` writes it. */
export function jsonString(text: string): string {
  return NEEDS_ESCAPE.test(text) ? JSON.stringify(text) : `"${text}"`;
}

function jsonStringOrNull(text: string | null): string {
  return text === null ? 'null' : jsonString(text);
}

/** `{"currency":"DKK","value":` by currency: a handful of currencies, written once each. */
const MONEY_PREFIX_KEPT = 1000;
const moneyPrefixes = new Map<string, string>();

function moneyJson(minor: number, currency: string): string {
  let prefix = moneyPrefixes.get(currency);
  if (prefix === undefined) {
    prefix = `{"currency":${jsonString(currency)},"value":`;
    if (moneyPrefixes.size >= MONEY_PREFIX_KEPT) moneyPrefixes.clear();
    moneyPrefixes.set(currency, prefix);
  }
  return `${prefix}${numberJson(minorToNumber(minor, currency))}}`;
}

/** A JSON number as JSON.stringify writes it (fast-json-stringify writes non-finite ones as null too). */
function numberJson(value: number): string {
  return Number.isFinite(value) ? String(value) : 'null';
}

/** `JSON.stringify(serializeTransaction(row, accountId))`, with the account id already a JSON string. */
export function transactionJson(row: TransactionWireRow, accountIdJson: string): string {
  const amount = Number(row.amount_minor);
  const currency = row.currency;
  const detail =
    row.value_date === null && row.counterparty_name === null
      ? 'null'
      : `{"valueDate":${jsonStringOrNull(row.value_date)},"counterpartyName":${jsonStringOrNull(row.counterparty_name)}}`;
  const categories = row.category === null ? '[]' : `[{"id":${jsonString(row.category)},"name":${jsonString(categoryName(row.category))}}]`;
  return (
    `{"id":${jsonString(row.id)},"accountId":${accountIdJson},"date":${jsonString(row.date)},"text":${jsonString(row.text)},` +
    `"originalText":${jsonString(row.original_text)},"transactionAmount":${moneyJson(amount, currency)},` +
    `"balance":${row.balance_minor === null ? 'null' : moneyJson(Number(row.balance_minor), currency)},` +
    `"amount":${numberJson(minorToNumber(amount, currency))},"currency":${jsonString(currency)},"state":${jsonString(row.state)},` +
    `"type":${jsonString(row.type)},"detail":${detail},"categories":${categories},"isDeleted":${row.is_deleted === 1},` +
    `"creationDate":"${isoTime(Number(row.created_at))}"}`
  );
}

/*
 * The lists are joined (`Array.prototype.join` writes one flat string) rather than grown with
 * `+=`, which makes a rope of a few thousand pieces: encoding such a rope to UTF-8 for the socket
 * took ~75 µs for a 26 kB page with a handful of Danish letters in it against ~30 µs for the flat
 * string (ASCII-only, both ~28 µs).
 */

/** `JSON.stringify({ transactions: rows.map(serializeTransaction), pagingToken })`. */
export function transactionPageJson(rows: readonly TransactionWireRow[], count: number, accountId: string, pagingToken: string | null): string {
  const accountIdJson = jsonString(accountId);
  const transactions = new Array<string>(count);
  for (let i = 0; i < count; i++) transactions[i] = transactionJson(rows[i]!, accountIdJson);
  return `{"transactions":[${transactions.join(',')}],"pagingToken":${jsonStringOrNull(pagingToken)}}`;
}

/** `JSON.stringify(serializeAccount(row, providerName))`. */
export function accountJson(row: AccountWireRow, providerName: string): string {
  const currency = row.currency;
  const booked = row.booked_minor === null ? null : Number(row.booked_minor);
  const available = row.available_minor === null ? null : Number(row.available_minor);
  const bbanParsed =
    row.bban_bank_code === null && row.bban_account_number === null
      ? 'null'
      : `{"bankCode":${jsonStringOrNull(row.bban_bank_code)},"accountNumber":${jsonStringOrNull(row.bban_account_number)}}`;
  return (
    `{"id":${jsonString(row.id)},"name":${jsonString(row.name)},"owner":${jsonString(row.owner)},"type":${jsonString(row.type)},` +
    `"currency":${jsonString(currency)},"available":${available === null ? 'null' : moneyJson(available, currency)},` +
    `"booked":${booked === null ? 'null' : moneyJson(booked, currency)},` +
    `"availableBalance":${available === null ? 'null' : numberJson(minorToNumber(available, currency))},` +
    `"bookedBalance":${booked === null ? 'null' : numberJson(minorToNumber(booked, currency))},` +
    `"accountProvider":{"id":${jsonString(row.provider_id)},"name":${jsonString(providerName)}},` +
    `"number":{"bban":${jsonStringOrNull(row.bban)},"bbanParsed":${bbanParsed},"bbanType":${jsonStringOrNull(row.bban_type)},` +
    `"iban":${jsonStringOrNull(row.iban)},"card":${jsonStringOrNull(row.card)}},` +
    `"features":{"queryable":true,"paymentFrom":false,"paymentTo":false,"psdPaymentAccount":${row.type === 'Consumption'}},` +
    `"lastSynchronized":${row.last_synchronized === null ? 'null' : `"${isoTime(Number(row.last_synchronized))}"`},` +
    `"syncStatus":${jsonString(row.sync_status)},"isOrphaned":${row.is_orphaned === 1},` +
    `"groupId":${jsonStringOrNull(row.group_id)},"groupName":${jsonStringOrNull(row.group_name)}}`
  );
}

/** `JSON.stringify({ accounts: rows.map(serializeAccount) })`. */
export function accountListJson(rows: readonly AccountWireRow[], providerName: (id: string) => string): string {
  const accounts = new Array<string>(rows.length);
  for (let i = 0; i < rows.length; i++) accounts[i] = accountJson(rows[i]!, providerName(rows[i]!.provider_id));
  return `{"accounts":[${accounts.join(',')}]}`;
}
