import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatIban, isValidIban, luhnCheckDigit, norwegianCheckDigit } from '../../src/providers/sandbox/account-numbers.js';
import { SANDBOX_BANKS } from '../../src/providers/sandbox/banks.js';
import { civilFromDays, daysFromCivil, isoDate, parseIsoDate, weekday } from '../../src/providers/sandbox/calendar.js';
import { planAccounts } from '../../src/providers/sandbox/accounts.js';
import { businessEntriesOn } from '../../src/providers/sandbox/entries.js';
import { accountView, transactionsView } from '../../src/providers/sandbox/statements.js';
import { sandboxUserReference } from '../../src/providers/sandbox/sandbox-bank.js';
import { HISTORY_DAYS, LONG_HISTORY_TRANSACTIONS, scenarioFor } from '../../src/providers/sandbox/scenarios.js';
import type { BankTransaction } from '../../src/providers/types.js';

/**
 * The generated data, directly (no login, no database): a property test over many usernames and
 * every sandbox bank, and the building blocks (IBANs, national check digits, calendar).
 */

const NOW = Date.UTC(2026, 10, 27, 14, 30);
const DAY_MS = 86_400_000;
const TODAY = Math.floor(NOW / DAY_MS);
const FROM = TODAY - HISTORY_DAYS;

function dataOf(bankIndex: number, username: string, now = NOW) {
  const bank = SANDBOX_BANKS[bankIndex % SANDBOX_BANKS.length]!;
  const plans = planAccounts(bank, sandboxUserReference(bank.id, username), scenarioFor(username)?.data ?? 'standard', now - 3_600_000);
  return plans.map((plan) => ({ account: accountView(plan, now), transactions: transactionsView(plan, FROM, TODAY, now) }));
}

describe('generated data: properties over 200 usernames at every sandbox bank', () => {
  const usernames = Array.from({ length: 200 }, (_, i) => `user-${i}-${(i * 7919).toString(36)}`);

  test('IBANs valid, balances reconcile to the cent, dates in range, ids unique, same username → same data', () => {
    const allAccountIds = new Set<string>();
    let transactionsSeen = 0;
    let reservedSeen = 0;
    usernames.forEach((username, i) => {
      const data = dataOf(i, username);
      const bank = SANDBOX_BANKS[i % SANDBOX_BANKS.length]!;
      assert.ok(data.length >= 3, `${username} has accounts`);
      const ids = new Set<string>();
      for (const { account, transactions } of data) {
        assert.ok(!allAccountIds.has(account.id), 'different usernames, different account ids');
        allAccountIds.add(account.id);
        assert.equal(account.currency, bank.currency);
        if (account.iban !== null) {
          assert.ok(isValidIban(account.iban), `IBAN ${account.iban}`);
          assert.ok(account.iban.startsWith(bank.country));
        }
        if (account.card !== null) assert.match(account.card, /^•••• \d{4}$/);
        assert.ok(transactions.length > 0, `${account.name} has history`);

        const booked = transactions.filter((t) => t.state === 'Booked');
        const reserved = transactions.filter((t) => t.state === 'Reserved');
        // The account's booked balance is the newest booked transaction's running balance.
        assert.equal(account.booked!.minor, booked[0]!.balance!.minor, `${account.name} booked balance`);
        // Walking back through the history, every balance is the next one minus its amount.
        for (let k = 0; k + 1 < booked.length; k++) {
          assert.equal(booked[k]!.balance!.minor - booked[k]!.amount.minor, booked[k + 1]!.balance!.minor, `running balance at ${booked[k]!.date}`);
        }
        const pending = reserved.reduce((sum, t) => sum + t.amount.minor, 0);
        if (account.type !== 'Credit') {
          assert.equal(account.available!.minor, account.booked!.minor + (account.type === 'Savings' ? 0 : pending), 'available = booked + reserved');
        } else {
          assert.ok(account.available!.minor - account.booked!.minor - pending > 0, 'a credit card has a credit limit left');
        }
        for (const t of transactions) {
          assert.ok(Number.isSafeInteger(t.amount.minor) && t.amount.minor !== 0, 'amounts are whole minor units, never 0');
          assert.ok(t.date >= isoDate(FROM) && t.date <= isoDate(TODAY), `${t.date} in range`);
          assert.ok(!ids.has(t.id), `duplicate id ${t.id}`);
          ids.add(t.id);
          if (t.state === 'Reserved') assert.ok(t.date >= isoDate(TODAY - 3), 'Reserved only in the last days');
        }
        for (let k = 1; k < transactions.length; k++) assert.ok(transactions[k - 1]!.date >= transactions[k]!.date, 'newest first');
        // A booked transaction's former (Reserved) id is no longer listed.
        for (const t of transactions) if (t.pendingId !== undefined) assert.ok(!ids.has(t.pendingId), `pending id ${t.pendingId} still listed`);
        transactionsSeen += transactions.length;
        reservedSeen += reserved.length;
      }
      // Determinism: the same username, fetched again, gives identical data.
      assert.deepEqual(dataOf(i, username), data, `${username} is deterministic`);
    });
    assert.ok(transactionsSeen > 200 * 1000, `a realistic volume (${transactionsSeen})`);
    assert.ok(reservedSeen > 200, `Reserved card purchases in the last days (${reservedSeen})`);
  });

  test('two years of history with salary, rent, groceries, transport, subscriptions and transfers', () => {
    const [current] = dataOf(0, 'household');
    const transactions = current!.transactions;
    const categories = new Set(transactions.map((t) => t.category));
    for (const category of ['Salary', 'Rent', 'Groceries', 'Transport', 'Subscriptions', 'Transfers', 'Savings', 'Utilities']) {
      assert.ok(categories.has(category), `has ${category}`);
    }
    const salaries = transactions.filter((t) => t.type === 'Salary');
    assert.ok(salaries.length >= 23 && salaries.length <= 25, `a salary a month (${salaries.length})`);
    assert.ok(transactions.at(-1)!.date <= isoDate(FROM + 3), 'history reaches back two years');
  });

  test('merchants, texts and IBANs follow the bank’s country', () => {
    const expectations: Record<string, { merchant: RegExp; raw: RegExp; salary: string }> = {
      DK: { merchant: /Netto|Føtex|REMA 1000|Bilka|Lidl|Coop 365|SuperBrugsen|Meny/, raw: /^VISA\/DANKORT \d\d\.\d\d /, salary: 'Løn' },
      SE: { merchant: /ICA|Coop|Willys|Hemköp|Lidl|City Gross/, raw: /^KORTKÖP \d{4} /, salary: 'Lön' },
      NO: { merchant: /REMA 1000|KIWI|Meny|Coop|Joker|Bunnpris|SPAR/, raw: /^VISA VARE \d\d\.\d\d /, salary: 'Lønn' },
      FI: { merchant: /K-Citymarket|K-Supermarket|Prisma|S-market|Lidl|Alepa|Sale|K-Market/, raw: /^KORTTIOSTO \d\d\.\d\d /, salary: 'Palkka' },
      DE: { merchant: /REWE|EDEKA|ALDI|Lidl|Kaufland|Netto|Penny/, raw: /^GIROCARD .+\/\/.+\/DE \d\d\.\d\d$/, salary: 'Gehalt' },
    };
    SANDBOX_BANKS.forEach((bank, i) => {
      const [current] = dataOf(i, 'country-check');
      const expected = expectations[bank.country]!;
      const groceries = current!.transactions.filter((t) => t.category === 'Groceries');
      assert.ok(groceries.length > 100 && groceries.every((t) => expected.merchant.test(t.text) && expected.raw.test(t.originalText)), `${bank.id} groceries`);
      assert.ok(current!.transactions.some((t) => t.text === expected.salary), `${bank.id} salary text`);
      assert.ok(current!.account.iban!.startsWith(bank.country));
    });
  });

  test('booked card purchases point at the Reserved id they had, and keep their amount', () => {
    const bank = SANDBOX_BANKS[0]!;
    const [plan] = planAccounts(bank, sandboxUserReference(bank.id, 'pending-check'), 'standard', NOW);
    const seen = new Map<string, BankTransaction>();
    // Walk ten days: every Reserved transaction seen books later under a new id naming it.
    for (let day = 0; day < 10; day++) {
      for (const t of transactionsView(plan!, TODAY - 20, TODAY + day, NOW + day * DAY_MS)) if (t.state === 'Reserved') seen.set(t.id, t);
    }
    const later = transactionsView(plan!, TODAY - 20, TODAY + 14, NOW + 14 * DAY_MS);
    const booked = new Map(later.filter((t) => t.pendingId !== undefined).map((t) => [t.pendingId!, t]));
    assert.ok(seen.size > 5, `Reserved transactions seen (${seen.size})`);
    for (const [pendingId, reserved] of seen) {
      const final = booked.get(pendingId);
      assert.ok(final, `Reserved ${pendingId} was booked`);
      assert.equal(final.amount.minor, reserved.amount.minor);
      assert.equal(final.valueDate, reserved.date, 'the value date is the purchase date');
      assert.ok(final.date > reserved.date, 'booked after it was made');
    }
  });

  test('old transactions never change as days pass (ids, amounts and running balances)', () => {
    const bank = SANDBOX_BANKS[1]!;
    for (const plan of planAccounts(bank, sandboxUserReference(bank.id, 'stable-history'), 'standard', NOW)) {
      const window = (now: number) => transactionsView(plan, TODAY - 300, TODAY - 200, now);
      assert.deepEqual(window(NOW + 45 * DAY_MS), window(NOW), plan.name);
    }
  });
});

describe('data scenarios', () => {
  test('longhistory: exactly 20,000 booked transactions in any history window', () => {
    for (const now of [NOW, NOW + 17 * DAY_MS, NOW + 400 * DAY_MS]) {
      const data = dataOf(0, 'longhistory', now);
      assert.equal(data.length, 1);
      const today = Math.floor(now / DAY_MS);
      const bank = SANDBOX_BANKS[0]!;
      const [plan] = planAccounts(bank, sandboxUserReference(bank.id, 'longhistory'), 'longhistory', now);
      const booked = transactionsView(plan!, today - HISTORY_DAYS, today, now).filter((t) => t.state === 'Booked');
      assert.equal(booked.length, LONG_HISTORY_TRANSACTIONS);
    }
    let total = 0;
    for (let d = 0; d <= HISTORY_DAYS; d++) total += businessEntriesOn(12_345 + d);
    assert.equal(total, LONG_HISTORY_TRANSACTIONS);
  });

  test('manyaccounts has 30 accounts with distinct ids and valid numbers; noaccounts none', () => {
    const many = dataOf(0, 'manyaccounts').map((d) => d.account);
    assert.equal(many.length, 30);
    assert.equal(new Set(many.map((a) => a.id)).size, 30);
    assert.equal(new Set(many.map((a) => a.iban ?? a.card)).size, 30);
    assert.ok(many.every((a) => a.iban === null || isValidIban(a.iban)));
    assert.deepEqual(new Set(many.map((a) => a.type)), new Set(['Consumption', 'Savings', 'Credit']));
    assert.equal(dataOf(0, 'noaccounts').length, 0);
  });

  test('scenario names are case-insensitive, and name+suffix is another user with the same behaviour', () => {
    assert.equal(scenarioFor(' LongHistory ')?.name, 'longhistory');
    assert.equal(scenarioFor('manyaccounts+2')?.name, 'manyaccounts');
    assert.equal(scenarioFor('alice'), null);
    const a = dataOf(0, 'manyaccounts').map((d) => d.account.id);
    const b = dataOf(0, 'manyaccounts+2').map((d) => d.account.id);
    assert.equal(b.length, 30);
    assert.ok(a.every((id) => !b.includes(id)));
  });
});

describe('account numbers and calendar', () => {
  test('IBAN check digits (ISO 13616) against published examples', () => {
    for (const iban of ['DK5000400440116243', 'NO9386011117947', 'FI2112345600000785', 'DE89370400440532013000', 'SE4550000000058398257466']) {
      assert.ok(isValidIban(iban), iban);
      assert.equal(formatIban(iban.slice(0, 2), iban.slice(4)), iban);
    }
    assert.ok(!isValidIban('DK5000400440116244'), 'a changed digit fails');
    assert.ok(!isValidIban('DK50004004401162'), 'a wrong length fails');
  });

  test('national check digits: Norway mod 11, Finland Luhn', () => {
    assert.equal(norwegianCheckDigit('8601111794'), 7); // NO93 8601 1117 947
    assert.equal(luhnCheckDigit('1234560000078'), 5); // FI21 1234 5600 0007 85
  });

  test('civil dates round-trip, weekdays and strict parsing', () => {
    for (let d = -1000; d < 30_000; d += 37) assert.equal(daysFromCivil(...(Object.values(civilFromDays(d)) as [number, number, number])), d);
    assert.equal(isoDate(daysFromCivil(2024, 2, 29)), '2024-02-29');
    assert.equal(weekday(daysFromCivil(2026, 11, 27)), 5, '27 November 2026 is a Friday');
    assert.equal(parseIsoDate('2026-02-30'), null);
    assert.equal(parseIsoDate('26-02-01'), null);
    assert.equal(parseIsoDate('2026-02-28'), daysFromCivil(2026, 2, 28));
  });
});
