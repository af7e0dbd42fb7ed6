import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { syncConsent } from '../../src/data/sync.js';
import { connectConsent, runJobs } from '../helpers/connect.js';
import { DIALECTS } from '../helpers/database.js';
import { createTestClient, createTestServer, type TestClient, type TestServer } from '../helpers/server.js';

interface WireTransaction {
  id: string;
  date: string;
  state: string;
  text: string;
  isDeleted: boolean;
  transactionAmount: { value: number };
}

for (const dialect of DIALECTS) {
  describe(`sync over time: resyncs update in place (issue #5) [${dialect}]`, () => {
    let server: TestServer;
    let client: TestClient;

    beforeEach(async () => {
      server = await createTestServer(dialect);
      client = await createTestClient(server);
    });
    afterEach(async () => {
      await server.close();
    });

    const get = (url: string, token: string) => server.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } });
    const resync = (consentId: string) => syncConsent({ db: server.services.database.db, clock: server.clock, providers: server.services.providers }, consentId);

    async function allTransactions(token: string, accountId: string, query = ''): Promise<WireTransaction[]> {
      const seen: WireTransaction[] = [];
      let pagingToken: string | null = null;
      do {
        const res = await get(`/v1/accounts/${accountId}/transactions?pageSize=1000${pagingToken ? `&pagingToken=${encodeURIComponent(pagingToken)}` : ''}${query}`, token);
        assert.equal(res.statusCode, 200, res.body);
        seen.push(...res.json().transactions);
        pagingToken = res.json().pagingToken;
      } while (pagingToken !== null);
      return seen;
    }

    it('pages through 20,000 transactions each exactly once, in order, also while a resync runs', async () => {
      const { accessToken, consentId, refreshToken } = await connectConsent(server, client, { username: 'longhistory', scopes: 'accounts offline_access' });
      await runJobs(server);
      const account = (await get('/v1/accounts', accessToken)).json().accounts[0];
      const everything = await allTransactions(accessToken, account.id);
      assert.ok(everything.length >= 20_000, `only ${everything.length}`);
      assert.equal(new Set(everything.map((t) => t.id)).size, everything.length);

      // Page again, and let a day pass with a resync between two pages.
      const seen: WireTransaction[] = [];
      let pagingToken: string | null = null;
      let pages = 0;
      let token = accessToken;
      do {
        const res = await get(`/v1/accounts/${account.id}/transactions?pageSize=700${pagingToken ? `&pagingToken=${encodeURIComponent(pagingToken)}` : ''}`, token);
        assert.equal(res.statusCode, 200, res.body);
        seen.push(...res.json().transactions);
        pagingToken = res.json().pagingToken;
        if (++pages === 3) {
          server.clock.advance(24 * 3600_000);
          const report = await resync(consentId);
          assert.equal(report.status, 'done');
          // A day later the access token has expired: the app refreshes it, as Aiia clients do.
          const refreshed = await server.app.inject({
            method: 'POST',
            url: '/v1/oauth/token',
            headers: { authorization: client.basic, 'content-type': 'application/json' },
            payload: JSON.stringify({ grant_type: 'refresh_token', refresh_token: refreshToken }),
          });
          token = refreshed.json().access_token;
        }
      } while (pagingToken !== null);
      const ids = seen.map((t) => t.id);
      assert.equal(new Set(ids).size, ids.length, 'no transaction twice');
      const stillThere = new Set(ids);
      const lost = everything.filter((t) => !stillThere.has(t.id) && t.date < seen[seen.length - 1]!.date);
      assert.deepEqual(lost, [], 'every transaction that existed before is returned');
      for (let i = 1; i < seen.length; i++) assert.ok(seen[i - 1]!.date >= seen[i]!.date, 'newest first');
    });

    it('turns a pending transaction into the booked one, same id, no duplicate, and records AccountsUpdated', async () => {
      const { accessToken, consentId } = await connectConsent(server, client, { username: 'pending2booked', scopes: 'accounts offline_access' });
      await runJobs(server);
      const account = (await get('/v1/accounts', accessToken)).json().accounts[0];
      const first = await allTransactions(accessToken, account.id);
      const pending = first.filter((t) => t.state === 'Reserved');
      assert.ok(pending.length > 0, 'the scenario user has pending transactions');

      server.clock.advance(5 * 60_000);
      await resync(consentId);
      const second = await allTransactions(accessToken, account.id);
      const byId = new Map(second.map((t) => [t.id, t]));
      const booked = pending.filter((p) => byId.get(p.id)?.state === 'Booked');
      assert.ok(booked.length > 0, 'a pending transaction became booked under the same id');
      for (const p of booked) {
        const twins = second.filter((t) => t.text === p.text && t.transactionAmount.value === p.transactionAmount.value && t.date === byId.get(p.id)!.date);
        assert.equal(twins.length, 1, `no duplicate of ${p.text}`);
      }
      const events = await server.services.database.db.selectFrom('events').select(['event', 'data']).where('consent_id', '=', consentId).orderBy('created_at').execute();
      assert.deepEqual(events.map((e) => e.event), ['SyncDone', 'SyncDone', 'AccountsUpdated']);
      const changed = JSON.parse(events[2]!.data!).changedAccounts;
      assert.equal(changed[0].accountId, account.id);
      assert.ok(changed[0].transactionsChanged > 0);
    });

    it('marks a transaction the bank removed as isDeleted: hidden by default, visible with includeDeleted', async () => {
      const { accessToken, consentId } = await connectConsent(server, client, { username: 'removed', scopes: 'accounts offline_access' });
      await runJobs(server);
      const account = (await get('/v1/accounts', accessToken)).json().accounts[0];
      const before = await allTransactions(accessToken, account.id);
      server.clock.advance(5 * 60_000);
      await resync(consentId);
      const after = await allTransactions(accessToken, account.id);
      const afterIds = new Set(after.map((t) => t.id));
      const gone = before.filter((t) => !afterIds.has(t.id));
      assert.ok(gone.length >= 1, 'a transaction disappeared from the default listing');

      const query = await server.app.inject({
        method: 'POST',
        url: `/v1/accounts/${account.id}/transactions/query?includeDeleted=true`,
        headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' },
        payload: JSON.stringify({ pageSize: 1000 }),
      });
      const withDeleted: WireTransaction[] = query.json().transactions;
      for (const t of gone) assert.equal(withDeleted.find((w) => w.id === t.id)?.isDeleted, true);
    });

    it('keeps identical genuine transactions as two', async () => {
      const { accessToken, consentId } = await connectConsent(server, client, { username: 'jane', scopes: 'accounts offline_access' });
      await runJobs(server);
      const accounts = (await get('/v1/accounts', accessToken)).json().accounts;
      const count = async () => {
        let n = 0;
        for (const a of accounts) n += (await allTransactions(accessToken, a.id)).length;
        return n;
      };
      const before = await count();
      await resync(consentId);
      assert.equal(await count(), before, 'a resync with no change at the bank adds nothing');
    });
  });
}
