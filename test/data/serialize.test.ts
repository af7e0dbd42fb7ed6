import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fastJson from 'fast-json-stringify';
import type { AccountWireRow, TransactionWireRow } from '../../src/data/data-store.js';
import { AccountSchema, MoneySchema, TransactionPageSchema, TransactionSchema } from '../../src/data/schemas.js';
import { accountListJson, serializeAccount, serializeTransaction, transactionPageJson } from '../../src/data/serialize.js';

// The hot list endpoints write JSON text by hand (serialize.ts); it must be, byte for byte, what
// the response schemas write from the objects (and what JSON.stringify writes).
const schemas = { Money: MoneySchema, Account: AccountSchema, Transaction: TransactionSchema };
const writePage = fastJson(TransactionPageSchema, { schema: schemas });
const writeAccounts = fastJson({ type: 'object', properties: { accounts: { type: 'array', items: { $ref: 'Account' } } } }, { schema: schemas });

const ODD_TEXTS = ['Netto', 'quote " and \\ backslash', 'tab\tnew\nline\r\u0000\u001f\u007f', 'ÆØÅ æøå € 🚀', 'lone \ud800 surrogate \udfff', '', '\u2028\u2029', '</script>', 'a'.repeat(200) + '"'];

function transaction(i: number, overrides: Partial<TransactionWireRow> = {}): TransactionWireRow {
  const text = ODD_TEXTS[i % ODD_TEXTS.length]!;
  return {
    id: `t-${i}`,
    date: '2026-10-23',
    ordinal: i,
    text,
    original_text: `VISA ${text}`,
    amount_minor: [-7470, 0, 100, -1, 123456789012, 5, -99999][i % 7]!,
    currency: ['DKK', 'JPY', 'KWD', 'EUR', 'SEK'][i % 5]!,
    balance_minor: i % 3 === 0 ? null : 1721129 - i,
    state: i % 4 === 0 ? 'Reserved' : 'Booked',
    type: 'Card',
    value_date: i % 5 === 0 ? null : '2026-10-22',
    counterparty_name: i % 6 === 0 ? null : text,
    category: i % 4 === 1 ? null : ['Groceries', 'eating-out', 'x_y'][i % 3]!,
    is_deleted: i % 7 === 0 ? 1 : 0,
    created_at: 1795842400156 + (i % 2) * 1000,
    ...overrides,
  } as TransactionWireRow;
}

function account(i: number, overrides: Partial<AccountWireRow> = {}): AccountWireRow {
  const text = ODD_TEXTS[i % ODD_TEXTS.length]!;
  return {
    id: `a-${i}`,
    name: text,
    owner: `Freja ${text}`,
    type: i % 2 === 0 ? 'Consumption' : 'Savings',
    currency: ['DKK', 'JPY', 'BHD'][i % 3]!,
    booked_minor: i % 4 === 0 ? null : 1928925 - i * 7,
    available_minor: i % 5 === 0 ? null : -i,
    provider_id: 'TestDataBank1',
    bban: i % 3 === 0 ? null : '1234 5678901',
    bban_bank_code: i % 2 === 0 ? null : '1234',
    bban_account_number: i % 3 === 0 ? null : '5678901',
    bban_type: i % 2 === 0 ? null : 'DK',
    iban: i % 2 === 0 ? `DK${i}` : null,
    card: i % 5 === 0 ? '**** 1234' : null,
    last_synchronized: i % 3 === 0 ? null : 1795842400156 + i,
    sync_status: 'Finished',
    is_orphaned: i % 2,
    group_id: i % 2 === 0 ? null : 'g',
    group_name: i % 2 === 0 ? null : text,
    ...overrides,
  } as AccountWireRow;
}

describe('hand-written JSON of the data API (serialize.ts)', () => {
  it('writes a transaction page byte for byte as the response schema and JSON.stringify do', () => {
    const rows = Array.from({ length: 60 }, (_, i) => transaction(i));
    for (const [count, token] of [
      [60, null],
      [50, 'eyJ.abc-_'],
      [0, null],
      [1, 'x"y'],
    ] as const) {
      const expected = { transactions: rows.slice(0, count).map((r) => serializeTransaction(r, 'acc "1"')), pagingToken: token };
      const json = transactionPageJson(rows, count, 'acc "1"', token);
      assert.equal(json, writePage(expected));
      assert.equal(json, JSON.stringify(expected));
    }
  });

  it('writes the account list byte for byte as the response schema and JSON.stringify do', () => {
    const rows = Array.from({ length: 30 }, (_, i) => account(i));
    const name = (id: string) => `Bank ${id} "æ"`;
    for (const list of [rows, [], rows.slice(0, 1)]) {
      const expected = { accounts: list.map((r) => serializeAccount(r, name(r.provider_id))) };
      const json = accountListJson(list, name);
      assert.equal(json, writeAccounts(expected));
      assert.equal(json, JSON.stringify(expected));
    }
  });
});
