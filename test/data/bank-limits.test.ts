import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { syncConsent } from '../../src/data/sync.js';
import { ConnectionExpiredError, RateLimitedError } from '../../src/providers/errors.js';
import type { BankProvider, ProviderConnection } from '../../src/providers/types.js';
import { connectConsent, runJobs } from '../helpers/connect.js';
import { DIALECTS } from '../helpers/database.js';
import { createTestClient, createTestServer, type TestClient, type TestServer } from '../helpers/server.js';

/**
 * A bank that answers like TestDataBank1 until told otherwise: then every read fails the way a
 * real bank's does (429 / spent read budget, or a consent that ended at the bank). The real
 * NextGenPSD2 connector raises these errors (test/providers/nextgenpsd2); this checks what the sync does with them.
 */
class MoodyBank implements BankProvider {
  mood: 'fine' | 'rate-limited' | 'expired' = 'fine';
  retryAt = 0;
  inner!: BankProvider;
  describe() {
    return {
      id: 'MoodyBank',
      name: 'Moody Bank',
      countryCode: 'DK',
      currency: 'DKK',
      logoUrl: '/assets/banks/testdatabank1.svg',
      status: 'Up' as const,
      loginMethods: ['Password' as const],
      requiresSupervisedUpdate: false,
    };
  }
  startLogin: BankProvider['startLogin'] = async (ctx) => {
    const step = await this.inner.startLogin(ctx);
    return step;
  };
  continueLogin: BankProvider['continueLogin'] = async (state, input, ctx) => {
    const step = await this.inner.continueLogin(state, input, ctx);
    return step.kind === 'done' ? { ...step, connection: { ...step.connection, providerId: 'MoodyBank', data: { ...step.connection.data, inner: step.connection.providerId } } } : step;
  };
  private check(): void {
    if (this.mood === 'rate-limited') throw new RateLimitedError('the bank said 429', this.retryAt, 'bank');
    if (this.mood === 'expired') throw new ConnectionExpiredError('the consent at the bank ended', 'Expired');
  }
  private unwrap(connection: ProviderConnection): ProviderConnection {
    return { ...connection, providerId: String(connection.data?.inner) };
  }
  listAccounts: BankProvider['listAccounts'] = async (connection, ctx) => {
    this.check();
    return this.inner.listAccounts(this.unwrap(connection), ctx);
  };
  fetchTransactions: BankProvider['fetchTransactions'] = async (connection, accountId, range, ctx) => {
    this.check();
    return this.inner.fetchTransactions(this.unwrap(connection), accountId, range, ctx);
  };
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
  });
}
