import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { BankAnswerInvalidError, BankUnavailableError, ConnectionExpiredError, RateLimitedError } from '../../../src/providers/errors.js';
import { Xs2aSandboxBank } from '../../../src/providers/sandbox/xs2a/xs2a-sandbox-bank.js';
import type { LoginStep, ProviderConnection } from '../../../src/providers/types.js';
import { DIALECTS } from '../../helpers/database.js';
import { bankLogin, callbackQuery, loginAs, xs2aFixture, type Xs2aFixture } from './xs2a-fixture.js';

const DAY = 86_400_000;
const failure = (step: LoginStep) => (step.kind === 'failed' ? { reason: step.reason, retryable: step.retryable, message: step.message } : { kind: step.kind });

/**
 * What a real bank does wrong, or refuses, and what the user or the app then sees: consents
 * rejected, SCA failed, locked users, consents expired or revoked, 429, 5xx, timeouts, answers that
 * break the specification, and a TPP certificate the bank does not accept.
 */
for (const dialect of DIALECTS) {
  describe(`NextGenPSD2 failures, shown clearly (${dialect})`, () => {
    let fixture: Xs2aFixture;
    before(async () => {
      fixture = await xs2aFixture(dialect);
    });
    after(async () => {
      await fixture.close();
    });
    beforeEach(() => {
      fixture.fault = null;
    });

    const connect = async (approach: 'REDIRECT' | 'DECOUPLED' | 'EMBEDDED', user: string): Promise<ProviderConnection> => {
      const run = await loginAs(fixture, fixture.provider(approach), user);
      assert.equal(run.final.kind, 'done', run.events.join(' → '));
      return (run.final as Extract<LoginStep, { kind: 'done' }>).connection;
    };

    describe('at the login', () => {
      test('the user cancels at the bank: back on TPP-Nok-Redirect-URI, "cancelled", retryable', async () => {
        const run = await loginAs(fixture, fixture.provider('REDIRECT'), 'carol', { redirect: 'cancel' });
        assert.deepEqual(run.events, ['redirect', 'failed:Cancelled']);
        assert.equal(failure(run.final).retryable, true);
      });

      test('the bank sends the user to the Nok address and Ferry asks the bank, never trusting the redirect alone', async () => {
        const provider = fixture.provider('REDIRECT');
        const step = await provider.startLogin(fixture.ctx());
        assert.equal(step.kind, 'redirect');
        const answer = await bankLogin(fixture, step as Extract<LoginStep, { kind: 'redirect' }>, 'locked');
        const query = callbackQuery(answer.location);
        assert.equal(query.result, 'nok');
        // A forged "ok" callback with the right nonce: the consent's status still says rejected.
        const forged = await provider.continueLogin(JSON.parse(JSON.stringify((step as { state: unknown }).state)), { kind: 'callback', query: { state: query.state! } }, fixture.ctx());
        assert.deepEqual(failure(forged), { reason: 'RejectedByUser', retryable: true, message: 'Your online banking access is blocked. Please contact your bank.' });
      });

      test('a callback with another login’s nonce is refused (CSRF)', async () => {
        const provider = fixture.provider('REDIRECT');
        const step = await provider.startLogin(fixture.ctx());
        const next = await provider.continueLogin(JSON.parse(JSON.stringify((step as { state: unknown }).state)), { kind: 'callback', query: { state: 'someone-elses' } }, fixture.ctx());
        assert.deepEqual(failure(next), { reason: 'Cancelled', retryable: true, message: 'The answer from Test XS2A Bank (redirect) could not be verified. Please try again.' });
      });

      test('the user rejects in the bank app (decoupled): RejectedByUser', async () => {
        const run = await loginAs(fixture, fixture.provider('DECOUPLED'), 'dave', { app: 'reject' });
        assert.deepEqual(run.events, ['form:psuId', 'poll', 'failed:RejectedByUser']);
      });

      test('the user never approves: Timeout after five minutes of polling', async () => {
        const provider = fixture.provider('DECOUPLED');
        const run = await loginAs(fixture, provider, 'erin', { app: 'ignore' });
        assert.equal(run.final.kind, 'poll');
        fixture.clock.advance(5 * 60_000 + 1);
        const next = await provider.continueLogin(JSON.parse(JSON.stringify((run.final as { state: unknown }).state)), { kind: 'poll' }, fixture.ctx());
        assert.equal(failure(next).reason, 'Timeout');
      });

      test('a wrong PIN in the app, a wrong password (embedded): the user tries again and gets in', async () => {
        assert.deepEqual((await loginAs(fixture, fixture.provider('DECOUPLED'), 'wrongpassword+app')).events, ['form:psuId', 'poll', 'app:error', 'done']);
        assert.deepEqual((await loginAs(fixture, fixture.provider('EMBEDDED'), 'wrongpassword+emb')).events, [
          'form:psuId+password',
          'form-error:password',
          'form:scaMethod',
          'form:otp',
          'form-error:otp',
          'done',
        ]);
      });

      test('SCA failed: three wrong one-time codes end the login (InvalidCredentials)', async () => {
        const run = await loginAs(fixture, fixture.provider('EMBEDDED'), 'frank', { fields: (step) => (step.fields[0]!.name === 'otp' ? { otp: '000000' } : Object.fromEntries(step.fields.map((f) => [f.name, f.name === 'scaMethod' ? '2' : 'frank-secret']))) });
        assert.deepEqual(run.events, ['form:psuId+password', 'form:scaMethod', 'form:otp', 'form-error:otp', 'form-error:otp', 'failed:InvalidCredentials']);
      });

      test('an SCA method the user did not get offered is asked again', async () => {
        let answered = false;
        const run = await loginAs(fixture, fixture.provider('EMBEDDED'), 'gina', {
          fields: (step) => {
            if (step.fields[0]!.name !== 'scaMethod') return Object.fromEntries(step.fields.map((f) => [f.name, f.name === 'otp' ? '123456' : 'gina']));
            assert.deepEqual(step.fields[0]!.options?.map((o) => o.value), ['sms', 'push']);
            assert.match(step.fields[0]!.hint ?? '', /1: SMS to \+49 170 •••• 28; 2: SecureGo app/);
            const choice = answered ? 'push' : '7';
            answered = true;
            return { scaMethod: choice };
          },
        });
        assert.deepEqual(run.events, ['form:psuId+password', 'form:scaMethod', 'form-error:scaMethod', 'form:otp', 'done']);
      });

      test('a locked user (SERVICE_BLOCKED): AccountLocked, not retryable; an unavailable bank (503): BankUnavailable, retryable', async () => {
        const locked = await loginAs(fixture, fixture.provider('EMBEDDED'), 'locked');
        assert.deepEqual(failure(locked.final), { reason: 'AccountLocked', retryable: false, message: 'Your account at Test XS2A Bank (embedded) is locked. Please contact your bank.' });
        const down = await loginAs(fixture, fixture.provider('DECOUPLED'), 'unavailable');
        assert.deepEqual(failure(down.final), { reason: 'BankUnavailable', retryable: true, message: 'Test XS2A Bank (decoupled) is not available right now. Please try again later.' });
      });

      test('429, 5xx, a timeout and an answer that breaks the specification: the bank is unavailable, in the user’s language', async () => {
        // The bank's usual time limit, except for the one call that tests it (a short one would also cut
        // off the other answers on a busy machine).
        const start = (culture: 'en' | 'de' = 'en', timeoutMs?: number) =>
          fixture.provider('REDIRECT', timeoutMs !== undefined ? { timeoutMs } : {}).startLogin(fixture.ctx(culture));
        fixture.fault = () => ({ status: 429, body: { tppMessages: [{ category: 'ERROR', code: 'ACCESS_EXCEEDED' }] } });
        assert.deepEqual(failure(await start()), { reason: 'BankUnavailable', retryable: true, message: 'Test XS2A Bank (redirect) is busy right now. Please try again in a few minutes.' });
        fixture.fault = () => ({ status: 502, rawBody: '<html>Bad gateway</html>' });
        assert.equal(failure(await start('de')).message, 'Test XS2A Bank (redirect) ist gerade nicht erreichbar. Bitte versuchen Sie es später erneut.');
        fixture.fault = () => ({ status: 201, body: { consentStatus: 'received' }, delayMs: 2000 });
        assert.equal(failure(await start('en', 300)).reason, 'BankUnavailable');
        fixture.fault = () => ({ status: 201, body: { consentStatus: 'granted', consentId: 'c-1', _links: {} } });
        assert.deepEqual(failure(await start()), { reason: 'BankUnavailable', retryable: true, message: 'Test XS2A Bank (redirect) answered in a way Ferry cannot read. Please try again later.' });
        fixture.fault = () => ({ status: 201, rawBody: '{"consentId":', contentType: 'application/json' });
        assert.equal(failure(await start()).message, 'Test XS2A Bank (redirect) answered in a way Ferry cannot read. Please try again later.');
      });

      test('a bank that does not accept Ferry’s certificate or an unsealed request refuses it; the user is told the bank is unavailable', async () => {
        const noCertificate = await fixture.provider('REDIRECT', { tls: null }).startLogin(fixture.ctx());
        assert.equal(failure(noCertificate).reason, 'BankUnavailable');
        const unsigned = await fixture.provider('REDIRECT', { signing: null }).startLogin(fixture.ctx());
        assert.equal(failure(unsigned).reason, 'BankUnavailable');
        // Picked by what they lacked, not by position: the previous test's delayed answer may land in between.
        assert.equal(fixture.received.findLast((e) => !e.clientCertificate)?.status, 401, 'the call without a client certificate');
        assert.equal(fixture.received.findLast((e) => !e.signed)?.status, 401, 'the unsigned call');
      });
    });

    describe('reading data', () => {
      test('the consent expired: ConnectionExpiredError, from Ferry’s own date and from the bank’s 401 CONSENT_EXPIRED', async () => {
        const connection = await connect('REDIRECT', 'henry');
        const provider = fixture.provider('REDIRECT');
        const validUntil = (connection.data as { validUntil: string }).validUntil;
        assert.equal(validUntil, new Date(fixture.clock.now() + 90 * DAY).toISOString().slice(0, 10));
        const later = { now: () => fixture.clock.now() + 91 * DAY };
        await assert.rejects(provider.listAccounts(connection, later), (e: unknown) => e instanceof ConnectionExpiredError && e.reason === 'Expired');
        // A connection that believes it has longer: the bank says so itself.
        const optimistic = { ...connection, data: { ...connection.data, validUntil: '2099-12-31' } };
        const before = fixture.sent.length;
        fixture.clock.advance(91 * DAY);
        try {
          await assert.rejects(provider.listAccounts(optimistic, { now: () => fixture.clock.now() }), (e: unknown) => e instanceof ConnectionExpiredError && e.reason === 'Expired');
          assert.equal(fixture.sent[before]?.response?.status, 401);
        } finally {
          fixture.clock.advance(-91 * DAY);
        }
      });

      test('the user revoked the consent at the bank: ConnectionExpiredError (Revoked)', async () => {
        const connection = await connect('DECOUPLED', 'irene');
        const bank = new Xs2aSandboxBank(fixture.test.database.db, { apiPrefix: '', pagesUrl: '', pageSize: 100, embeddedMethods: 2, explicitStart: false });
        await bank.revokeConsent(connection.reference, fixture.clock.now());
        await assert.rejects(fixture.provider('DECOUPLED').listAccounts(connection, { now: () => fixture.clock.now() }), (e: unknown) => e instanceof ConnectionExpiredError && e.reason === 'Revoked');
      });

      test('Ferry ends the consent at the bank when the user revokes it (DELETE /v1/consents/{consentId}); reads then fail', async () => {
        const connection = await connect('EMBEDDED', 'ivan');
        const provider = fixture.provider('EMBEDDED');
        await provider.revokeConnection(connection, { now: () => fixture.clock.now() });
        assert.deepEqual(fixture.received.filter((e) => e.operationId === 'deleteConsent').map((e) => e.status), [204]);
        await assert.rejects(provider.listAccounts(connection, { now: () => fixture.clock.now() }), (e: unknown) => e instanceof ConnectionExpiredError && e.reason === 'Revoked');
        // Twice is fine; a consent the bank no longer knows is ended too.
        await provider.revokeConnection(connection, { now: () => fixture.clock.now() });
        await provider.revokeConnection({ ...connection, reference: 'unknown-consent' }, { now: () => fixture.clock.now() });
      });

      test('429 from the bank: RateLimitedError with the bank’s Retry-After', async () => {
        const connection = await connect('REDIRECT', 'jack');
        fixture.fault = (call) => (call.operationId === 'getAccountList' ? { status: 429, headers: { 'retry-after': '3600' }, body: { tppMessages: [{ category: 'ERROR', code: 'ACCESS_EXCEEDED' }] } } : null);
        await assert.rejects(fixture.provider('REDIRECT').listAccounts(connection, { now: () => fixture.clock.now() }), (e: unknown) => e instanceof RateLimitedError && e.source === 'bank' && e.retryAt === fixture.clock.now() + 3_600_000);
      });

      test('5xx, a timeout, a refusal: BankUnavailableError with the cause, never personal data', async () => {
        const connection = await connect('REDIRECT', 'kate');
        const account = (connection.data as { accounts: [string, string][] }).accounts[0]![0];
        const range = { from: '2025-12-01', to: '2026-01-15' };
        const read = (timeoutMs = 30_000) => fixture.provider('REDIRECT', { timeoutMs }).fetchTransactions(connection, account, range, { now: () => fixture.clock.now(), userPresent: true });
        fixture.fault = () => ({ status: 503 });
        await assert.rejects(read(), (e: unknown) => e instanceof BankUnavailableError && e.detail.cause === 'ServerError' && e.detail.status === 503);
        fixture.fault = () => ({ status: 200, body: {}, delayMs: 500 });
        await assert.rejects(read(200), (e: unknown) => e instanceof BankUnavailableError && e.detail.cause === 'Timeout');
        fixture.fault = () => ({ status: 400, body: { tppMessages: [{ category: 'ERROR', code: 'PERIOD_INVALID' }] } });
        await assert.rejects(read(), (e: unknown) => e instanceof BankUnavailableError && e.detail.cause === 'Refused' && e.detail.codes?.[0] === 'PERIOD_INVALID' && !e.message.includes(connection.reference));
      });

      test('answers that break the specification are refused, naming where', async () => {
        const connection = await connect('REDIRECT', 'liam');
        const account = (connection.data as { accounts: [string, string][] }).accounts[0]![0];
        const read = () => fixture.provider('REDIRECT').fetchTransactions(connection, account, { from: '2025-12-01', to: '2026-01-15' }, { now: () => fixture.clock.now(), userPresent: true });
        const report = (booked: unknown[], links: Record<string, unknown> = { account: { href: '/v1/accounts/x' } }) => ({ status: 200, body: { transactions: { booked, _links: links } } });
        fixture.fault = () => report([{ transactionAmount: { currency: 'EUR', amount: -12.5 } }]);
        await assert.rejects(read(), (e: unknown) => e instanceof BankAnswerInvalidError && e.problems.includes('body/transactions/booked/0/transactionAmount/amount: must be string'));
        fixture.fault = () => report([{ transactionAmount: { currency: 'EUR', amount: '-12.505' }, bookingDate: '2026-01-02' }]);
        await assert.rejects(read(), (e: unknown) => e instanceof BankAnswerInvalidError && e.problems[0] === 'page 0 booked/0 transactionAmount: not an amount in EUR');
        fixture.fault = () => report([], { account: { href: '/v1/accounts/x' }, next: { href: 'https://elsewhere.example/v1/accounts/x/transactions?pageIndex=1' } });
        await assert.rejects(read(), (e: unknown) => e instanceof BankAnswerInvalidError && /another host/.test(e.message));
        fixture.fault = (call) => report([], { account: { href: '/v1/accounts/x' }, next: { href: `${call.path}?bookingStatus=both&dateFrom=2025-12-01&pageIndex=1` } });
        await assert.rejects(read(), (e: unknown) => e instanceof BankAnswerInvalidError && /round in circles/.test(e.message));
      });
    });

    test('the connector itself never sent a request the specification forbids', () => {
      // The faults above were answers; every request the connector made was still valid.
      assert.deepEqual(fixture.sent.flatMap((e) => e.requestProblems), []);
      assert.deepEqual(fixture.received.flatMap((e) => e.requestProblems), []);
    });
  });
}
