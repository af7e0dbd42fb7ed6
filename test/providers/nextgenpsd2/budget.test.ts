import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { RateLimitedError } from '../../../src/providers/errors.js';
import type { FetchContext, LoginStep, ProviderConnection } from '../../../src/providers/types.js';
import { DIALECTS } from '../../helpers/database.js';
import { loginAs, xs2aFixture, type Xs2aFixture } from './xs2a-fixture.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/**
 * PSD2 RTS art. 36(5) and the consent's `frequencyPerDay`: without the user, at most that many
 * reads a day of each resource. Ferry counts before it reads, so the bank never has to refuse;
 * reads the user makes are free and say so with `PSU-IP-Address`; background reads never do.
 */
for (const dialect of DIALECTS) {
  describe(`NextGenPSD2 read budget: frequencyPerDay (${dialect})`, () => {
    let fixture: Xs2aFixture;
    before(async () => {
      fixture = await xs2aFixture(dialect);
    });
    after(async () => {
      await fixture.close();
    });

    const connect = async (user: string, oneTime = false): Promise<ProviderConnection> => {
      const run = await loginAs(fixture, fixture.provider('REDIRECT'), user, { ctx: fixture.ctx('en', { oneTime }) });
      assert.equal(run.final.kind, 'done');
      return (run.final as Extract<LoginStep, { kind: 'done' }>).connection;
    };
    const background = (): FetchContext => ({ now: () => fixture.clock.now() });
    const present = (): FetchContext => ({ now: () => fixture.clock.now(), userPresent: true, psu: { ipAddress: '::ffff:198.51.100.7', userAgent: 'Mozilla/5.0', acceptLanguage: 'da', httpMethod: 'GET' } });
    const backgroundListsAtBank = () => fixture.received.filter((e) => e.operationId === 'getAccountList' && !e.userPresent).length;

    test('a regular consent: four background reads a day, the fifth refused before the bank is asked, room again after 24 hours', async () => {
      const connection = await connect('budget-regular');
      const provider = fixture.provider('REDIRECT');
      assert.deepEqual(provider.accessLimits(connection), { unattendedReadsPerDay: 4, expiresAt: Date.parse(`${(connection.data as { validUntil: string }).validUntil}T00:00:00Z`) + DAY });
      const start = fixture.clock.now();
      for (let i = 0; i < 4; i++) {
        await provider.listAccounts(connection, background());
        fixture.clock.advance(HOUR);
      }
      const asked = backgroundListsAtBank();
      await assert.rejects(provider.listAccounts(connection, background()), (e: unknown) => e instanceof RateLimitedError && e.source === 'budget' && e.retryAt === start + DAY);
      assert.equal(backgroundListsAtBank(), asked, 'the bank was not asked a fifth time');

      // The user, in the flow, may always read; the bank sees them (PSU-IP-Address) and does not count it.
      const before = fixture.sent.length;
      await provider.listAccounts(connection, present());
      const call = fixture.sent[before]!;
      assert.equal(call.request.headers['psu-ip-address'], '198.51.100.7');
      assert.equal(call.request.headers['psu-accept-language'], 'da');
      assert.equal(call.request.headers['psu-http-method'], 'GET');

      fixture.clock.set(start + DAY + 1);
      await provider.listAccounts(connection, background());
    });

    test('each account and each kind of data has its own count, as at the bank', async () => {
      const connection = await connect('budget-accounts');
      const provider = fixture.provider('REDIRECT');
      const [first, second] = (connection.data as { accounts: [string, string][] }).accounts.map(([id]) => id);
      assert.ok(first !== undefined && second !== undefined);
      const today = new Date(fixture.clock.now()).toISOString().slice(0, 10);
      for (let i = 0; i < 4; i++) await provider.fetchTransactions(connection, first, { from: today, to: today }, background());
      await assert.rejects(provider.fetchTransactions(connection, first, { from: today, to: today }, background()), RateLimitedError);
      await provider.fetchTransactions(connection, second, { from: today, to: today }, background());
      await provider.listAccounts(connection, background());
    });

    test('a one-time consent asks for one read (recurringIndicator false, frequencyPerDay 1) and gets one', async () => {
      const before = fixture.sent.length;
      const connection = await connect('budget-once', true);
      const consent = fixture.sent.slice(before).find((e) => e.operationId === 'createConsent')!;
      const body = consent.request.body as { recurringIndicator: boolean; frequencyPerDay: number; validUntil: string };
      assert.equal(body.recurringIndicator, false);
      assert.equal(body.frequencyPerDay, 1);
      assert.equal(body.validUntil, new Date(fixture.clock.now() + DAY).toISOString().slice(0, 10));
      const provider = fixture.provider('REDIRECT');
      assert.equal(provider.accessLimits(connection).unattendedReadsPerDay, 1);
      await provider.listAccounts(connection, background());
      await assert.rejects(provider.listAccounts(connection, background()), RateLimitedError);
    });

    test('the bank keeps its own count: a fifth read sent anyway is a 429 ACCESS_EXCEEDED, reported as RateLimitedError', async () => {
      const connection = await connect('budget-bank');
      const provider = fixture.provider('REDIRECT');
      for (let i = 0; i < 4; i++) await provider.listAccounts(connection, background());
      // Another Ferry that forgot its count (a restored backup): the bank still refuses.
      await fixture.test.database.db.deleteFrom('xs2a_unattended_reads').execute();
      await assert.rejects(provider.listAccounts(connection, background()), (e: unknown) => e instanceof RateLimitedError && e.source === 'bank' && e.retryAt === fixture.clock.now() + DAY / 4);
      const refused = fixture.received.at(-1)!;
      assert.equal(refused.status, 429);
      assert.deepEqual(refused.responseProblems, []);
    });

    test('a bank grants no more than PSD2 allows: asked for six, it grants four, and Ferry keeps to four', async () => {
      const run = await loginAs(fixture, fixture.provider('REDIRECT', { frequencyPerDay: 6 }), 'budget-six');
      const connection = (run.final as Extract<LoginStep, { kind: 'done' }>).connection;
      assert.equal(fixture.provider('REDIRECT').accessLimits(connection).unattendedReadsPerDay, 4);
    });
  });
}
