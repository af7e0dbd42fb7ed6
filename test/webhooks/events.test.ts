import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { verifyWebhook, type WebhookEvent } from '../../packages/client/src/index.js';
import { sweepExpiredConsents } from '../../src/consents/retention.js';
import { connectConsent, runJobs } from '../helpers/connect.js';
import { DIALECTS } from '../helpers/database.js';
import { createTestServer, type TestClient, type TestServer } from '../helpers/server.js';
import { createWebhookApp, WEBHOOK_SECRET } from './helpers.js';
import { startReceiver, type TestReceiver } from './receiver.js';

/** The events fire at the right moments of a consent's life (issue #7), end to end through the sandbox bank. */
for (const dialect of DIALECTS) {
  describe(`webhook events in a consent's life [${dialect}]`, () => {
    let server: TestServer;
    let receiver: TestReceiver;
    let client: TestClient;

    beforeEach(async () => {
      server = await createTestServer(dialect);
      receiver = await startReceiver();
      const app = await createWebhookApp(server.services.database, server.clock, receiver.url);
      client = { ...app, redirectUri: 'https://app.example.com/callback' };
    });
    afterEach(async () => {
      await server.close();
      await receiver.close();
    });

    /** Delivers what is due and returns the verified events received since `from`. */
    const deliver = async (from = 0): Promise<WebhookEvent[]> => {
      await server.services.webhooks.runDue();
      return receiver.received.slice(from).map((r) => verifyWebhook(WEBHOOK_SECRET, r.headers, r.rawBody, { now: server.clock.now() }));
    };
    const get = (url: string, token: string) => server.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } });

    it('sends SyncDone after the first sync, then SyncDone and AccountsUpdated after a resync that changed transactions', async () => {
      const { consentId, accessToken } = await connectConsent(server, client, { username: 'pending2booked', scopes: 'accounts offline_access' });
      assert.deepEqual(await deliver(), [], 'nothing before the first sync has committed');

      await runJobs(server);
      const first = await deliver();
      assert.deepEqual(first.map((e) => e.event), ['SyncDone']);
      const syncDone = first[0]!;
      assert.equal(syncDone.consentId, consentId);
      const accountIds = (await get('/v1/accounts', accessToken)).json().accounts.map((a: { id: string }) => a.id);
      if (syncDone.event === 'SyncDone') assert.deepEqual([...syncDone.data.syncedAccountIds].sort(), [...accountIds].sort());
      const transactions = await get(`/v1/accounts/${accountIds[0]}/transactions`, accessToken);
      assert.ok(transactions.json().transactions.length > 0, 'when SyncDone arrives, the data is there');

      // The bank books a pending purchase; the app asks for an update.
      server.clock.advance(5 * 60_000);
      const update = await server.app.inject({
        method: 'POST',
        url: '/v1/update',
        headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' },
        payload: JSON.stringify({ redirectUrl: client.redirectUri }),
      });
      assert.equal(update.json().status, 'AllQueued');
      await runJobs(server);
      const second = await deliver(1);
      assert.deepEqual(second.map((e) => e.event).sort(), ['AccountsUpdated', 'SyncDone']);
      const updated = second.find((e) => e.event === 'AccountsUpdated')!;
      assert.equal(updated.consentId, consentId);
      if (updated.event === 'AccountsUpdated') {
        assert.ok(updated.data.changedAccounts.length > 0);
        assert.ok(accountIds.includes(updated.data.changedAccounts[0]!.accountId));
        assert.ok(updated.data.changedAccounts[0]!.transactionsChanged > 0);
      }
      assert.equal(new Set(receiver.eventIds()).size, 3, 'three events, three ids');
    });

    it('sends no AccountsUpdated after a resync that changed nothing', async () => {
      const { consentId } = await connectConsent(server, client, { username: 'jane', scopes: 'accounts offline_access' });
      await runJobs(server);
      server.clock.advance(6 * 3600_000 + 1000);
      await runJobs(server);
      const events = await deliver();
      assert.deepEqual(events.map((e) => e.event), ['SyncDone', 'SyncDone']);
      assert.ok(events.every((e) => e.consentId === consentId));
    });

    it('sends ConsentRevoked (data null) and DataDeleted (reason ConsentRevoked) when the app revokes the consent', async () => {
      const { consentId } = await connectConsent(server, client, { username: 'jane', scopes: 'accounts offline_access' });
      await runJobs(server);
      await deliver();
      const res = await server.app.inject({ method: 'DELETE', url: `/v1/consents/${consentId}`, headers: { authorization: client.basic } });
      assert.equal(res.statusCode, 200, res.body);
      const events = await deliver(1);
      assert.deepEqual(events.map((e) => e.event).sort(), ['ConsentRevoked', 'DataDeleted']);
      const revoked = events.find((e) => e.event === 'ConsentRevoked')!;
      assert.equal(revoked.consentId, consentId);
      assert.equal(revoked.data, null);
      const body = receiver.received.find((r) => r.headers['x-aiia-event'] === 'ConsentRevoked')!.rawBody.toString();
      assert.deepEqual(JSON.parse(body), { consentRevokedWebhook: { consentId, event: 'ConsentRevoked', data: null } });
      const deleted = events.find((e) => e.event === 'DataDeleted')!;
      if (deleted.event === 'DataDeleted') {
        assert.equal(deleted.data.reason, 'ConsentRevoked');
        assert.equal(deleted.data.deletedAt, new Date(server.clock.now()).toISOString());
      }
    });

    it('sends DataDeleted (reason OneTimeRetention) when a one-time consent’s data is erased at its deadline', async () => {
      const { consentId } = await connectConsent(server, client, { username: 'jane' });
      await runJobs(server);
      await deliver();
      server.clock.advance(server.services.config.oneTimeRetentionSeconds * 1000);
      assert.deepEqual(await deliver(1), [], 'nothing until the data is actually erased');
      await sweepExpiredConsents({ db: server.services.database.db, capabilities: server.services.database.capabilities, clock: server.clock });
      const events = await deliver(1);
      assert.deepEqual(events.map((e) => e.event), ['DataDeleted']);
      assert.equal(events[0]!.consentId, consentId);
      if (events[0]!.event === 'DataDeleted') assert.equal(events[0]!.data.reason, 'OneTimeRetention');
    });

    it('delivers within moments of the commit while running (a nudge, not the next poll)', async () => {
      const { consentId } = await connectConsent(server, client, { username: 'jane', scopes: 'accounts offline_access' });
      await runJobs(server);
      await deliver();
      server.services.webhooks.start();
      const started = Date.now();
      await server.app.inject({ method: 'DELETE', url: `/v1/consents/${consentId}`, headers: { authorization: client.basic } });
      while (receiver.received.length < 3 && Date.now() - started < 5_000) await sleep(5);
      const took = Date.now() - started;
      assert.equal(receiver.received.length, 3);
      assert.ok(took < 1_000, `delivered ${took} ms after the revocation`);
    });
  });
}
