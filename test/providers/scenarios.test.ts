import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { InvalidLoginStateError } from '../../src/providers/errors.js';
import { DECOUPLED_LOGIN_TTL_MS } from '../../src/providers/sandbox/bank-logins.js';
import { LONG_HISTORY_TRANSACTIONS, SCENARIO_SLOT_MS, SCENARIOS } from '../../src/providers/sandbox/scenarios.js';
import type { BankProvider, BankTransaction, LoginStep, ProviderConnection } from '../../src/providers/types.js';
import { DIALECTS } from '../helpers/database.js';
import { callbackQuery, handleOf, loginAs, postAppDecision, postBankLogin, sandboxFixture, type SandboxFixture } from './sandbox-fixture.js';

/** Every scenario user of the README, at every sandbox bank, through the provider interface. */

const SLOW_STEP_MS = 60;
const DAY_MS = 86_400_000;
const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

function connectionOf(step: LoginStep): ProviderConnection {
  assert.equal(step.kind, 'done', `the login succeeds (${step.kind === 'failed' ? step.reason : step.kind})`);
  return (step as Extract<LoginStep, { kind: 'done' }>).connection;
}

function failureOf(step: LoginStep) {
  assert.equal(step.kind, 'failed', `the login fails (got ${step.kind})`);
  return step as Extract<LoginStep, { kind: 'failed' }>;
}

async function history(provider: BankProvider, connection: ProviderConnection, accountId: string, now: number): Promise<BankTransaction[]> {
  return provider.fetchTransactions(connection, accountId, { from: isoDay(now - 730 * DAY_MS), to: isoDay(now) }, { now: () => now });
}

for (const dialect of DIALECTS) {
  describe(`scenario users at every sandbox bank (${dialect})`, () => {
    let fixture: SandboxFixture;
    before(async () => {
      fixture = await sandboxFixture(dialect, { slowStepMs: SLOW_STEP_MS });
    });
    after(async () => {
      await fixture.close();
    });

    test('the scenario table lists the ten scenarios of the README', () => {
      assert.deepEqual(
        SCENARIOS.map((s) => s.name),
        ['wrongpassword', 'locked', 'unavailable', 'slow', 'rejected', 'noaccounts', 'manyaccounts', 'longhistory', 'pending2booked', 'removed'],
      );
    });

    const banks = () => fixture.registry.list().filter((p) => fixture.registry.sandboxBank(p.describe().id) !== undefined);

    test('wrongpassword: the first password (or PIN) is refused as wrong, the retry works', async (t) => {
      for (const provider of banks()) {
        await t.test(provider.describe().id, async () => {
          const run = await loginAs(fixture, provider, 'wrongpassword');
          connectionOf(run.final);
          const refused = run.events.filter((e) => e === 'form:InvalidCredentials' || e === 'bank:error' || e === 'app:error');
          assert.equal(refused.length, 1, `refused exactly once (${run.events.join(' → ')})`);
        });
      }
    });

    test('locked: AccountLocked, not retryable', async (t) => {
      for (const provider of banks()) {
        await t.test(provider.describe().id, async () => {
          const failed = failureOf((await loginAs(fixture, provider, 'locked')).final);
          assert.equal(failed.reason, 'AccountLocked');
          assert.equal(failed.retryable, false);
          assert.match(failed.message, /locked/);
        });
      }
    });

    test('unavailable: BankUnavailable, retryable, and still unavailable on retry', async (t) => {
      for (const provider of banks()) {
        await t.test(provider.describe().id, async () => {
          for (let attempt = 0; attempt < 2; attempt++) {
            const failed = failureOf((await loginAs(fixture, provider, 'unavailable')).final);
            assert.equal(failed.reason, 'BankUnavailable');
            assert.equal(failed.retryable, true);
          }
        });
      }
    });

    test('slow: every login step and every fetch takes the configured time, then it works', async (t) => {
      for (const provider of banks()) {
        await t.test(provider.describe().id, async () => {
          let started = performance.now();
          const run = await loginAs(fixture, provider, 'slow');
          const connection = connectionOf(run.final);
          assert.ok(performance.now() - started >= SLOW_STEP_MS - 5, 'the login was slow');
          started = performance.now();
          const accounts = await provider.listAccounts(connection, { now: () => fixture.clock.now() });
          assert.ok(performance.now() - started >= SLOW_STEP_MS - 5, 'listing accounts was slow');
          assert.ok(accounts.length >= 3);
        });
      }
    });

    test('rejected: RejectedByUser in the bank app', async (t) => {
      for (const provider of banks()) {
        await t.test(provider.describe().id, async () => {
          const failed = failureOf((await loginAs(fixture, provider, 'rejected')).final);
          assert.equal(failed.reason, 'RejectedByUser');
          assert.equal(failed.retryable, true);
        });
      }
    });

    test('noaccounts, manyaccounts and longhistory', async (t) => {
      for (const provider of banks()) {
        await t.test(provider.describe().id, async () => {
          const now = fixture.clock.now();
          const ctx = { now: () => now };
          const none = connectionOf((await loginAs(fixture, provider, 'noaccounts')).final);
          assert.deepEqual(await provider.listAccounts(none, ctx), []);

          const many = connectionOf((await loginAs(fixture, provider, 'manyaccounts')).final);
          const accounts = await provider.listAccounts(many, ctx);
          assert.equal(accounts.length, 30);
          assert.equal(new Set(accounts.map((a) => a.id)).size, 30);

          const long = connectionOf((await loginAs(fixture, provider, 'longhistory')).final);
          const [account] = await provider.listAccounts(long, ctx);
          const transactions = await history(provider, long, account!.id, now);
          assert.equal(transactions.filter((tx) => tx.state === 'Booked').length, LONG_HISTORY_TRANSACTIONS);
        });
      }
    });

    test('pending2booked: what was Reserved at one sync is booked at the next, pointing at its Reserved id', async (t) => {
      for (const provider of banks()) {
        await t.test(provider.describe().id, async () => {
          const connection = connectionOf((await loginAs(fixture, provider, 'pending2booked')).final);
          const [account] = await provider.listAccounts(connection, { now: () => connection.createdAt });
          const first = await history(provider, connection, account!.id, connection.createdAt + 60_000);
          const second = await history(provider, connection, account!.id, connection.createdAt + 60_000 + SCENARIO_SLOT_MS);
          const reservedBefore = first.filter((tx) => tx.state === 'Reserved');
          const secondIds = new Set(second.map((tx) => tx.id));
          const bookedFrom = new Map(second.filter((tx) => tx.pendingId !== undefined).map((tx) => [tx.pendingId!, tx]));
          const turned = reservedBefore.filter((tx) => !secondIds.has(tx.id));
          assert.ok(turned.length >= 1, 'at least one Reserved transaction changed');
          for (const reserved of turned) {
            const booked = bookedFrom.get(reserved.id);
            assert.ok(booked, `Reserved ${reserved.id} is booked at the next sync`);
            assert.equal(booked.state, 'Booked');
            assert.equal(booked.amount.minor, reserved.amount.minor);
            assert.notEqual(booked.id, reserved.id);
          }
          // The first sync's booked transactions are all still there, unchanged.
          const secondById = new Map(second.map((tx) => [tx.id, tx]));
          for (const tx of first.filter((x) => x.state === 'Booked')) assert.deepEqual(secondById.get(tx.id), tx);
        });
      }
    });

    test('removed: a transaction of one sync is gone at the next, without being booked', async (t) => {
      for (const provider of banks()) {
        await t.test(provider.describe().id, async () => {
          const connection = connectionOf((await loginAs(fixture, provider, 'removed')).final);
          const [account] = await provider.listAccounts(connection, { now: () => connection.createdAt });
          const first = await history(provider, connection, account!.id, connection.createdAt + 60_000);
          const second = await history(provider, connection, account!.id, connection.createdAt + 60_000 + SCENARIO_SLOT_MS);
          const secondIds = new Set(second.map((tx) => tx.id));
          const pendingIds = new Set(second.map((tx) => tx.pendingId).filter((id) => id !== undefined));
          const removed = first.filter((tx) => !secondIds.has(tx.id) && !pendingIds.has(tx.id));
          assert.equal(removed.length, 1, 'exactly one transaction was removed');
          assert.equal(removed[0]!.state, 'Reserved');
        });
      }
    });
  });

  describe(`login methods: the paths around the happy one (${dialect})`, () => {
    let fixture: SandboxFixture;
    before(async () => {
      fixture = await sandboxFixture(dialect);
    });
    after(async () => {
      await fixture.close();
    });
    const bank = (id: string) => fixture.registry.get(id)!;

    test('Aiia’s test banks take any username and any numeric password, and say so in the user’s language', async () => {
      const provider = bank('TestDataBank5');
      const ctx = fixture.ctx('da');
      const start = await provider.startLogin(ctx);
      assert.equal(start.kind, 'form');
      if (start.kind !== 'form') return;
      assert.equal(start.title, 'Log ind i Test Data Bank 5');
      assert.deepEqual(start.fields.map((f) => [f.name, f.type, f.label]), [['username', 'text', 'Bruger-id'], ['password', 'password', 'Adgangskode']]);
      const wrong = await provider.continueLogin(start.state, { kind: 'form', fields: { username: 'anyone', password: 'letters' } }, ctx);
      assert.equal(wrong.kind, 'form');
      if (wrong.kind !== 'form') return;
      assert.equal(wrong.error?.field, 'password');
      assert.equal(wrong.error?.message, 'Adgangskoden må kun indeholde cifre.');
      const done = await provider.continueLogin(wrong.state, { kind: 'form', fields: { username: 'anyone', password: '0' } }, ctx);
      assert.equal(done.kind, 'done');
    });

    test('the one-time code bank: a wrong code may be retried; three wrong codes end the login', async () => {
      const provider = bank('SandboxOtpBank');
      const ctx = fixture.ctx();
      const start = await provider.startLogin(ctx);
      let step = await provider.continueLogin(start.kind === 'form' ? start.state : {}, { kind: 'form', fields: { username: 'otp-user', password: 'x' } }, ctx);
      assert.equal(step.kind, 'form');
      assert.match(step.kind === 'form' ? (step.fields[0]!.hint ?? '') : '', /123456/, 'the page says which code works');
      for (let i = 0; i < 2; i++) {
        step = await provider.continueLogin(step.kind === 'form' ? step.state : {}, { kind: 'form', fields: { otp: '000000' } }, ctx);
        assert.equal(step.kind === 'form' && step.error?.reason, 'InvalidCredentials');
      }
      step = await provider.continueLogin(step.kind === 'form' ? step.state : {}, { kind: 'form', fields: { otp: '000000' } }, ctx);
      assert.equal(failureOf(step).reason, 'InvalidCredentials');
    });

    test('the app bank: the user rejects on the phone; or never answers and the login times out', async () => {
      const provider = bank('SandboxAppBank');
      const rejected = await loginAs(fixture, provider, 'phone-user', { app: 'reject' });
      assert.equal(failureOf(rejected.final).reason, 'RejectedByUser');

      const ignored = await loginAs(fixture, provider, 'phone-user', { app: 'ignore' });
      assert.equal(ignored.final.kind, 'poll', 'the flow keeps polling while the user has not answered');
      if (ignored.final.kind !== 'poll') return;
      fixture.clock.advance(DECOUPLED_LOGIN_TTL_MS);
      const timedOut = await provider.continueLogin(ignored.final.state, { kind: 'poll' }, fixture.ctx());
      assert.equal(failureOf(timedOut).reason, 'Timeout');
      // The phone no longer offers the expired request.
      const page = await postAppDecision(fixture.app, ignored.final, 'approve').catch((error: unknown) => error);
      assert.ok(page instanceof Error, 'the app page of an expired request is gone');
    });

    test('the redirect bank: cancel at the bank; a forged or replayed answer is refused', async () => {
      const provider = bank('SandboxRedirectBank');
      const ctx = fixture.ctx();
      const start = await provider.startLogin(ctx);
      assert.equal(start.kind, 'redirect');
      if (start.kind !== 'redirect') return;
      assert.match(start.url, /^http:\/\/ferry\.test\/sandbox\/banks\/SandboxRedirectBank\/login\?request=/);

      const cancelled = await postBankLogin(fixture.app, start, { username: 'redirect-user', action: 'cancel' });
      assert.equal(cancelled.statusCode, 303);
      const query = callbackQuery(cancelled.headers.location as string);
      assert.equal(query.error, 'access_denied');
      assert.equal(failureOf(await provider.continueLogin(start.state, { kind: 'callback', query }, ctx)).reason, 'Cancelled');

      const again = await provider.startLogin(ctx);
      if (again.kind !== 'redirect') return assert.fail('a redirect');
      const answer = await postBankLogin(fixture.app, again, { username: 'redirect-user' });
      const good = callbackQuery(answer.headers.location as string);
      assert.ok(good.code && good.state);
      const forged = await provider.continueLogin(again.state, { kind: 'callback', query: { ...good, state: 'forged' } }, ctx);
      assert.equal(failureOf(forged).reason, 'Cancelled');
      assert.equal((await provider.continueLogin(again.state, { kind: 'callback', query: good }, ctx)).kind, 'done');
      const replayed = await provider.continueLogin(again.state, { kind: 'callback', query: good }, ctx);
      assert.equal(failureOf(replayed).reason, 'Cancelled', 'an authorization code works once');
      // The bank's login page is gone once the login ended.
      assert.equal((await fixture.app.inject({ method: 'GET', url: `/sandbox/banks/SandboxRedirectBank/login?request=${handleOf(again)}` })).statusCode, 404);
    });

    test('a reload or a back button re-shows the current step; a login state from another bank is refused', async () => {
      const provider = bank('SandboxPasswordBank');
      const ctx = fixture.ctx();
      const start = await provider.startLogin(ctx);
      if (start.kind !== 'form') return assert.fail('a form');
      const again = await provider.continueLogin(start.state, { kind: 'poll' }, ctx);
      assert.equal(again.kind, 'form');
      const redirect = bank('SandboxRedirectBank');
      const step = await redirect.startLogin(ctx);
      if (step.kind !== 'redirect') return assert.fail('a redirect');
      assert.equal((await redirect.continueLogin(step.state, { kind: 'poll' }, ctx)).kind, 'redirect');
      await assert.rejects(redirect.continueLogin(start.state, { kind: 'poll' }, ctx), InvalidLoginStateError);
      await assert.rejects(provider.continueLogin({ v: 1, bank: 'SandboxPasswordBank', step: 'nonsense' }, { kind: 'poll' }, ctx), InvalidLoginStateError);
    });

    test('the same username at two banks is two users; different usernames, different account ids', async () => {
      const now = { now: () => fixture.clock.now() };
      const one = await bank('TestDataBank1').listAccounts(connectionOf((await loginAs(fixture, bank('TestDataBank1'), 'same-name')).final), now);
      const two = await bank('TestDataBank2').listAccounts(connectionOf((await loginAs(fixture, bank('TestDataBank2'), 'same-name')).final), now);
      const other = await bank('TestDataBank1').listAccounts(connectionOf((await loginAs(fixture, bank('TestDataBank1'), 'other-name')).final), now);
      const again = await bank('TestDataBank1').listAccounts(connectionOf((await loginAs(fixture, bank('TestDataBank1'), ' Same-Name ')).final), now);
      assert.deepEqual(again, one, 'usernames are compared trimmed and case-insensitively');
      const ids = (accounts: { id: string }[]) => new Set(accounts.map((a) => a.id));
      assert.ok([...ids(two)].every((id) => !ids(one).has(id)));
      assert.ok([...ids(other)].every((id) => !ids(one).has(id)));
    });
  });
}
