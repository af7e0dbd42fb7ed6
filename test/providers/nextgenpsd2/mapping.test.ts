import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { BankAnswerInvalidError } from '../../../src/providers/errors.js';
import { newestFirst, stableAccountId, toAmount, toBankAccount, toBankTransaction, toMoney } from '../../../src/providers/nextgenpsd2/mapping.js';
import type { TransactionsAnswer } from '../../../src/providers/nextgenpsd2/xs2a-model.js';
import { epochDay } from '../../../src/providers/sandbox/calendar.js';
import { accountView, transactionsView } from '../../../src/providers/sandbox/statements.js';
import { sandboxCustomerAccounts } from '../../../src/providers/sandbox/xs2a/xs2a-sandbox-data.js';
import type { LoginStep } from '../../../src/providers/types.js';
import { DIALECTS } from '../../helpers/database.js';
import { loginAs, xs2aFixture, type Xs2aFixture } from './xs2a-fixture.js';

const examples = (JSON.parse(fs.readFileSync(new URL('../../../src/providers/nextgenpsd2/spec/psd2-api-1.3.9-2021-05-04.json', import.meta.url), 'utf8')) as { components: { examples: Record<string, { value: unknown }> } }).components.examples;

describe('NextGenPSD2 → Ferry: money', () => {
  test('decimal strings become exact minor units, in the currency’s digits', () => {
    assert.deepEqual(toMoney({ currency: 'EUR', amount: '5877.78' }, 'x'), { currency: 'EUR', minor: 587778 });
    assert.deepEqual(toMoney({ currency: 'EUR', amount: '5768.2' }, 'x'), { currency: 'EUR', minor: 576820 });
    assert.deepEqual(toMoney({ currency: 'EUR', amount: '1056' }, 'x'), { currency: 'EUR', minor: 105600 });
    assert.deepEqual(toMoney({ currency: 'EUR', amount: '-1.50' }, 'x'), { currency: 'EUR', minor: -150 });
    assert.deepEqual(toMoney({ currency: 'EUR', amount: '-0.00' }, 'x'), { currency: 'EUR', minor: 0 });
    assert.deepEqual(toMoney({ currency: 'EUR', amount: '12.500' }, 'x'), { currency: 'EUR', minor: 1250 });
    assert.deepEqual(toMoney({ currency: 'JPY', amount: '1234' }, 'x'), { currency: 'JPY', minor: 1234 });
    assert.deepEqual(toMoney({ currency: 'BHD', amount: '-1.005' }, 'x'), { currency: 'BHD', minor: -1005 });
    assert.deepEqual(toMoney({ currency: 'EUR', amount: '90071992547409.91' }, 'x'), { currency: 'EUR', minor: Number.MAX_SAFE_INTEGER });
  });

  test('what Ferry cannot hold exactly is refused, never rounded', () => {
    for (const amount of ['1.005', '1,50', '', '1e3', '+1.00', '0.1.2']) {
      assert.throws(() => toMoney({ currency: 'EUR', amount }, 'booked/0'), (e: unknown) => e instanceof BankAnswerInvalidError && e.problems[0] === 'booked/0: not an amount in EUR', amount);
    }
    assert.throws(() => toMoney({ currency: 'JPY', amount: '1.5' }, 'x'), BankAnswerInvalidError);
    // 14 digits and 2 decimals may exceed what a double holds exactly.
    assert.throws(() => toMoney({ currency: 'EUR', amount: '99999999999999.99' }, 'x'), BankAnswerInvalidError);
  });

  test('and back: minor units to the model’s decimal string', () => {
    for (const [minor, currency, amount] of [[-150, 'EUR', '-1.50'], [5, 'EUR', '0.05'], [0, 'EUR', '0.00'], [1234, 'JPY', '1234'], [-1005, 'BHD', '-1.005']] as const) {
      assert.deepEqual(toAmount({ currency, minor }), { currency, amount });
      assert.deepEqual(toMoney(toAmount({ currency, minor }), 'x'), { currency, minor });
    }
  });
});

describe('NextGenPSD2 → Ferry: the specification’s own example', () => {
  test('booked and pending, value dates, counterparties and remittance text survive', () => {
    const answer = examples.transactionsExample1_RegularAccount_json!.value as TransactionsAnswer;
    const today = '2017-10-27';
    const booked = answer.transactions!.booked!.map((t, i) => toBankTransaction(t, 'Booked', today, `booked/${i}`));
    const pending = answer.transactions!.pending!.map((t, i) => toBankTransaction(t, 'Reserved', today, `pending/${i}`));
    assert.deepEqual(newestFirst(booked, pending), [
      { id: '1234569', date: '2017-10-26', valueDate: '2017-10-26', text: 'Claude Renault', originalText: 'Example 3', amount: { currency: 'EUR', minor: -10003 }, balance: null, state: 'Reserved', type: 'Other', counterpartyName: 'Claude Renault', category: null },
      { id: '1234567', date: '2017-10-25', valueDate: '2017-10-26', text: 'John Miles', originalText: 'Example 1', amount: { currency: 'EUR', minor: 25667 }, balance: null, state: 'Booked', type: 'Other', counterpartyName: 'John Miles', category: null },
      { id: '1234568', date: '2017-10-25', valueDate: '2017-10-26', text: 'Paul Simpson', originalText: 'Example 2', amount: { currency: 'EUR', minor: 34301 }, balance: null, state: 'Booked', type: 'Other', counterpartyName: 'Paul Simpson', category: null },
    ]);
  });

  test('accounts: a stable id without the IBAN in clear, the national number inside the IBAN, balances by preference', () => {
    const details = { resourceId: 'r-1', iban: 'DE89370400440532013000', currency: 'EUR', name: 'Girokonto', cashAccountType: 'CACC', ownerName: 'Max Mustermann' };
    const account = toBankAccount('Musterbank', details, [
      { balanceType: 'closingBooked', balanceAmount: { currency: 'EUR', amount: '100.00' } },
      { balanceType: 'interimBooked', balanceAmount: { currency: 'EUR', amount: '90.00' } },
      { balanceType: 'expected', balanceAmount: { currency: 'EUR', amount: '85.00' } },
    ]);
    assert.deepEqual(account, {
      id: stableAccountId('Musterbank', details),
      name: 'Girokonto',
      owner: 'Max Mustermann',
      type: 'Consumption',
      currency: 'EUR',
      booked: { currency: 'EUR', minor: 9000 },
      available: { currency: 'EUR', minor: 8500 },
      bban: '370400440532013000',
      bbanParsed: { bankCode: '37040044', accountNumber: '0532013000' },
      bbanType: 'GermanDomestic',
      iban: 'DE89370400440532013000',
      card: null,
    });
    assert.ok(!account.id.includes('0532013000'));
    assert.equal(stableAccountId('Musterbank', { ...details, resourceId: 'another-consent' }), account.id, 'the same account under another consent');
    assert.notEqual(stableAccountId('Musterbank', { ...details, currency: 'USD' }), account.id, 'a multicurrency account’s sub-accounts differ');
  });

  test('ISO 20022 bank transaction codes become Ferry’s types', () => {
    const type = (bankTransactionCode: string, amount = '-1.00') => toBankTransaction({ bankTransactionCode, transactionAmount: { currency: 'EUR', amount } }, 'Booked', '2026-01-01', 'x').type;
    assert.deepEqual(
      ['PMNT-CCRD-POSD', 'PMNT-CCRD-CWDL', 'PMNT-RCDT-SALA', 'PMNT-ICDT-ESCT', 'PMNT-RDDT-ESDD', 'ACMT-MDOP-CHRG', 'ACMT-MDOP-INTR', 'XTND-NTAV-NTAV'].map((c) => type(c)),
      ['Card', 'Cash', 'Salary', 'Transfer', 'DirectDebit', 'Fee', 'Interest', 'Other'],
    );
  });
});

describe('NextGenPSD2 → Ferry: nothing the simulated bank knows is lost on the way', () => {
  let fixture: Xs2aFixture;
  before(async () => {
    fixture = await xs2aFixture(DIALECTS[0] ?? 'sqlite');
  });
  after(async () => {
    await fixture.close();
  });

  test('accounts and every transaction of two years equal the bank’s own data, field by field', async () => {
    const user = 'pending2booked+fidelity';
    const run = await loginAs(fixture, fixture.provider('REDIRECT'), user);
    const connection = (run.final as Extract<LoginStep, { kind: 'done' }>).connection;
    const provider = fixture.provider('REDIRECT');
    const now = fixture.clock.now();
    const ctx = { now: () => now, userPresent: true };
    const accounts = await provider.listAccounts(connection, ctx);
    const consent = await fixture.test.database.db.selectFrom('xs2a_sandbox_consents').selectAll().where('id', '=', connection.reference).executeTakeFirstOrThrow();
    const bankSide = sandboxCustomerAccounts(user, consent.id, consent.authorised_at!);
    assert.equal(accounts.length, bankSide.length);
    const from = new Date(now - 730 * 86_400_000).toISOString().slice(0, 10);
    const to = new Date(now).toISOString().slice(0, 10);
    let pending = 0;
    for (const [i, account] of accounts.entries()) {
      const view = accountView(bankSide[i]!.plan, now);
      const { id: _bankId, ...expectedAccount } = view;
      const { id: _ferryId, ...actualAccount } = account;
      assert.deepEqual(actualAccount, expectedAccount);
      const transactions = await provider.fetchTransactions(connection, account.id, { from, to }, ctx);
      const expected = transactionsView(bankSide[i]!.plan, epochDay(Date.parse(from)), epochDay(now), now);
      assert.equal(transactions.length, expected.length);
      transactions.forEach((t, n) => {
        const e = expected[n]!;
        // BG has no link from a booked entry to the pending one it was (`pendingId`), no clean text and no category.
        assert.deepEqual(
          { id: t.id, date: t.date, valueDate: t.valueDate, amount: t.amount, balance: t.balance, state: t.state, type: t.type, counterpartyName: t.counterpartyName, originalText: t.originalText },
          { id: e.id, date: e.date, valueDate: e.valueDate, amount: e.amount, balance: e.balance, state: e.state, type: e.type, counterpartyName: e.counterpartyName, originalText: e.originalText.slice(0, 140) },
        );
        if (t.state === 'Reserved') pending++;
      });
    }
    assert.ok(pending > 0, 'pending entries came through as Reserved');
  });
});
