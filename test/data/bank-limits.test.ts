import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { syncConsent } from '../../src/data/sync.js';
import { ConnectionExpiredError, RateLimitedError } from '../../src/providers/errors.js';
import { WrappedBank } from '../helpers/wrapped-bank.js';
import { connectConsent, runJobs } from '../helpers/connect.js';
import { DIALECTS } from '../helpers/database.js';
import { createTestClient, createTestServer, type TestClient, type TestServer } from '../helpers/server.js';
import { csrfOf, FlowBrowser, location, signInAtFlowStep } from '../flow/flow-client.js';

/**
 * A bank that answers like TestDataBank1 until told otherwise: then every read fails the way a
 * real bank's does (429 / spent read budget, or a consent that ended at the bank). The real
 * NextGenPSD2 connector raises these errors (test/providers/nextgenpsd2); this checks what the sync does with them.
 */
class MoodyBank extends WrappedBank {
  mood: 'fine' | 'rate-limited' | 'expired' = 'fine';
  retryAt = 0;
  constructor() {
    super('MoodyBank', 'Moody Bank');
  }
  protected override beforeRead(): void {
    if (this.mood === 'rate-limited') throw new RateLimitedError('the bank said 429', this.retryAt, 'bank');
    if (this.mood === 'expired') throw new ConnectionExpiredError('the consent at the bank ended', 'Expired');
  }
}

for (const dialect of DIALECTS) {
  describe(`the bank's limits reach the app (ConnectionRateLimited, ConnectionUpdateRequired) [${dialect}]`, () => {
    let server: TestServer;
    let client: TestClient;
    let bank: MoodyBank;

    beforeEach(async () => {
      bank = new MoodyBank();
      server = await createTestServer(dialect, {}, { extraProviders: [bank] });
      bank.inner = server.services.providers.get('TestDataBank1')!;
      client = await createTestClient(server);
    });
    afterEach(async () => {
      await server.close();
    });

    const events = async (consentId: string) =>
      (await server.services.database.db.selectFrom('events').select(['event', 'data']).where('consent_id', '=', consentId).orderBy('created_at').execute()).map((e) => ({
        event: e.event,
        data: e.data === null ? null : JSON.parse(e.data),
      }));

    it('pauses on a 429, tells the app until when, and syncs again then', async () => {
      const consent = await connectConsent(server, client, { providerId: 'MoodyBank', username: 'jane', scopes: 'accounts offline_access' });
      await runJobs(server);
      bank.mood = 'rate-limited';
      bank.retryAt = server.clock.now() + 3 * 3600_000;
      const report = await syncConsent({ db: server.services.database.db, clock: server.clock, providers: server.services.providers }, consent.consentId);
      assert.equal(report.status, 'skipped');
      const limited = (await events(consent.consentId)).find((e) => e.event === 'ConnectionRateLimited');
      assert.ok(limited, 'ConnectionRateLimited recorded');
      assert.equal(limited.data.rateLimitedUntil, new Date(bank.retryAt).toISOString());
      assert.ok(limited.data.accountIds.length > 0);
      const next = await server.services.database.db.selectFrom('jobs').select('run_at').where('consent_id', '=', consent.consentId).where('status', '=', 'pending').executeTakeFirstOrThrow();
      assert.equal(next.run_at, bank.retryAt, 'the next sync waits for the bank');
    });

    it('stops on an ended bank consent, tells the app, and asks for the user at the next update', async () => {
      const consent = await connectConsent(server, client, { providerId: 'MoodyBank', username: 'jane', scopes: 'accounts offline_access' });
      await runJobs(server);
      bank.mood = 'expired';
      await syncConsent({ db: server.services.database.db, clock: server.clock, providers: server.services.providers }, consent.consentId);
      const names = (await events(consent.consentId)).map((e) => e.event);
      assert.ok(names.includes('ConnectionUpdateRequired'));
      assert.ok(names.includes('ConsentNeedsUpdate'));
      const update = await server.app.inject({
        method: 'POST',
        url: '/v1/update',
        headers: { authorization: `Bearer ${consent.accessToken}`, 'content-type': 'application/json' },
        payload: JSON.stringify({ redirectUrl: client.redirectUri }),
      });
      assert.equal(update.json().status, 'SupervisedLoginRequired');
      assert.match(update.json().authUrl, /\/flow\/start\?f=/);
      bank.mood = 'fine';
      const again = await syncConsent({ db: server.services.database.db, clock: server.clock, providers: server.services.providers }, consent.consentId);
      assert.equal(again.status, 'skipped', 'no unattended read until the user logs in again');
    });

    /** Breaks the consent's bank connection and asks for an update: the authUrl the app sends the user to. */
    const brokenConsent = async () => {
      const consent = await connectConsent(server, client, { providerId: 'MoodyBank', username: 'jane', scopes: 'accounts offline_access' });
      await runJobs(server);
      bank.mood = 'expired';
      await syncConsent({ db: server.services.database.db, clock: server.clock, providers: server.services.providers }, consent.consentId);
      bank.mood = 'fine';
      const update = await server.app.inject({
        method: 'POST',
        url: '/v1/update',
        headers: { authorization: `Bearer ${consent.accessToken}`, 'content-type': 'application/json' },
        payload: JSON.stringify({ redirectUrl: client.redirectUri }),
      });
      return { consent, authUrl: (update.json() as { authUrl: string }).authUrl };
    };

    /** The user follows the link: consent, their Ferry account, the bank (preset), the accounts; stops on the done page. */
    const walkToDone = async (authUrl: string) => {
      const browser = new FlowBrowser(server.app);
      const start = await browser.get(authUrl);
      browser.flowId = /\/flow\/([^/]+)\//.exec(location(start))?.[1] ?? '';
      assert.equal((await browser.follow(start)).statusCode, 200);
      let page = await browser.submit(browser.path('consent'), browser.path('consent'));
      if (page.body.includes('name="email"')) page = await signInAtFlowStep(server, browser, 'jane@example.com');
      assert.match(page.body, /name="username"/, 'the bank login of the consent’s bank, no bank choice');
      const accountsPage = await browser.submit(browser.path('login'), browser.path('login'), { username: 'jane', password: '1234' });
      const offered = [...accountsPage.body.matchAll(/name="account" value="([^"]+)"[^>]*checked/g)].map((m) => m[1]!);
      assert.ok(offered.length > 0, 'every account preselected');
      await browser.submit(browser.path('accounts'), browser.path('accounts'), { account: offered, intent: 'share' });
      return browser;
    };

    it('renews the same consent when the user logs in again through the authUrl (supervised update)', async () => {
      const db = server.services.database.db;
      const { consent, authUrl } = await brokenConsent();
      const accountsBefore = await db.selectFrom('accounts').select(['id', 'provider_account_id']).where('consent_id', '=', consent.consentId).orderBy('position').execute();
      const browser = await walkToDone(authUrl);
      const back = await browser.post(browser.path('done'), { _csrf: csrfOf((await browser.get(browser.path('done'))).body) });
      const redirect = new URL(location(back));
      assert.equal(`${redirect.origin}${redirect.pathname}`, client.redirectUri);
      assert.equal(redirect.searchParams.get('consentId'), consent.consentId, 'the same consent, renewed');
      assert.ok(redirect.searchParams.get('code'));

      // One consent still, the same accounts (same ids), and the bank is read without the user again.
      const consents = await db.selectFrom('consents').select('id').where('app_id', '=', client.clientId).execute();
      assert.deepEqual(consents.map((c) => c.id), [consent.consentId]);
      const accountsAfter = await db.selectFrom('accounts').select(['id', 'provider_account_id']).where('consent_id', '=', consent.consentId).orderBy('position').execute();
      assert.deepEqual(accountsAfter, accountsBefore);
      const sync = await syncConsent({ db, clock: server.clock, providers: server.services.providers }, consent.consentId);
      assert.equal(sync.status, 'done');
      const read = await server.app.inject({ method: 'GET', url: '/v1/accounts', headers: { authorization: `Bearer ${consent.accessToken}` } });
      assert.equal(read.statusCode, 200);
      assert.equal((read.json() as { accounts: unknown[] }).accounts.length, accountsBefore.length);
    });

    it('leaves the app its consent when the user cancels the supervised update on the last step', async () => {
      const db = server.services.database.db;
      const { consent, authUrl } = await brokenConsent();
      const browser = await walkToDone(authUrl);
      const cancelled = await browser.post(browser.path('cancel'), { _csrf: csrfOf((await browser.get(browser.path('done'))).body) });
      assert.equal(new URL(location(cancelled)).searchParams.get('error'), 'access_denied');
      const row = await db.selectFrom('consents').select(['status', 'revoked_at', 'delete_at']).where('id', '=', consent.consentId).executeTakeFirstOrThrow();
      assert.equal(row.revoked_at, null, 'the app keeps its consent');
      assert.equal(row.delete_at, null);
      const read = await server.app.inject({ method: 'GET', url: '/v1/accounts', headers: { authorization: `Bearer ${consent.accessToken}` } });
      assert.equal(read.statusCode, 200);
    });
  });
}
