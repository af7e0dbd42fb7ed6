import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import SQLite from 'better-sqlite3';
import { revokeGrant } from '../../src/oauth/token-service.js';
import { connectConsent, runJobs } from '../helpers/connect.js';
import { DIALECTS } from '../helpers/database.js';
import { createTestClient, createTestServer, type TestClient, type TestServer } from '../helpers/server.js';

for (const dialect of DIALECTS) {
  describe(`data API (aiia-api.md §4) [${dialect}]`, () => {
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
    const post = (url: string, token: string, body: unknown) =>
      server.app.inject({ method: 'POST', url, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, payload: JSON.stringify(body) });

    it('shows the shared accounts, Syncing until the first sync and Finished after it, with Aiia’s fields', async () => {
      const { accessToken } = await connectConsent(server, client, { username: 'jane' });
      const before = (await get('/v1/accounts', accessToken)).json();
      assert.ok(before.accounts.length > 0);
      assert.ok(before.accounts.every((a: { syncStatus: string }) => a.syncStatus === 'Syncing'));

      await runJobs(server);
      const res = await get('/v1/accounts', accessToken);
      assert.equal(res.statusCode, 200);
      const account = res.json().accounts[0];
      assert.equal(account.syncStatus, 'Finished');
      assert.ok(account.lastSynchronized);
      for (const field of ['id', 'name', 'owner', 'type', 'currency', 'available', 'booked', 'availableBalance', 'bookedBalance', 'accountProvider', 'number', 'features', 'isOrphaned', 'groupId', 'groupName']) {
        assert.ok(field in account, `account.${field}`);
      }
      assert.equal(account.accountProvider.id, 'TestDataBank1');
      assert.equal(account.bookedBalance, account.booked.value);
      assert.deepEqual((await get(`/v1/accounts/${account.id}`, accessToken)).json(), account);
    });

    it('pages transactions newest first until pagingToken is null, each exactly once, with balances that reconcile', async () => {
      const { accessToken } = await connectConsent(server, client, { username: 'jane' });
      await runJobs(server);
      const accounts = (await get('/v1/accounts', accessToken)).json().accounts;
      for (const account of accounts) {
        const seen: Array<{ id: string; date: string; state: string; balance: { value: number } | null; transactionAmount: { value: number } }> = [];
        let token: string | null = null;
        do {
          const res = await get(`/v1/accounts/${account.id}/transactions?pageSize=37${token ? `&pagingToken=${encodeURIComponent(token)}` : ''}`, accessToken);
          assert.equal(res.statusCode, 200, res.body);
          const page = res.json();
          seen.push(...page.transactions);
          token = page.pagingToken;
        } while (token !== null);
        assert.equal(new Set(seen.map((t) => t.id)).size, seen.length, 'no transaction twice');
        for (let i = 1; i < seen.length; i++) assert.ok(seen[i - 1]!.date >= seen[i]!.date, 'newest first');
        const newestBooked = seen.find((t) => t.state === 'Booked');
        if (newestBooked !== undefined && account.booked !== null) {
          assert.equal(newestBooked.balance!.value, account.booked.value, `${account.name}: booked balance is the newest running balance`);
        }
        const one = seen[0];
        if (one) assert.equal((await get(`/v1/accounts/${account.id}/transactions/${one.id}`, accessToken)).json().id, one.id);
      }
    });

    it('pages any text a bank may send as the transaction’s own answer: separators, control characters, empty strings and NULLs', async () => {
      const { accessToken } = await connectConsent(server, client, { username: 'jane' });
      await runJobs(server);
      const account = (await get('/v1/accounts', accessToken)).json().accounts[0];
      const first = (await get(`/v1/accounts/${account.id}/transactions?pageSize=6`, accessToken)).json();
      const ids: string[] = first.transactions.map((t: { id: string }) => t.id);
      assert.equal(ids.length, 6);
      // Texts as a bank could send them. The first page of three holds the ones with \x01 (the
      // separator of PostgreSQL's packed rows, read again as columns); the second, read packed,
      // the ones that must keep NULL, '' and '=' apart.
      const odd: Array<Record<string, string | number | null>> = [
        { text: 'A\u0001B', original_text: '\u0001', counterparty_name: '' },
        { text: '', original_text: '=\u0001=', counterparty_name: '\u0001', category: 'Food-and_drink' },
        { text: 'first page', original_text: 'first page', counterparty_name: null, value_date: null },
        { text: '=', original_text: '', counterparty_name: '=', category: '=', value_date: null },
        { text: 'plain', original_text: 'Ærø 🚲 ☕', value_date: '2020-01-01', counterparty_name: '', balance_minor: 0, amount_minor: -1 },
        { text: 'quote " backslash \\ newline \n tab \t unit \u001f', original_text: '"', counterparty_name: null, value_date: null, category: null, balance_minor: null, amount_minor: 123456789012 },
      ];
      for (const [i, values] of odd.entries()) {
        await server.testDb.database.db.updateTable('transactions').set(values).where('id', '=', ids[i]!).execute();
      }
      const own = async (id: string) => (await get(`/v1/accounts/${account.id}/transactions/${id}`, accessToken)).json();
      const page1 = (await get(`/v1/accounts/${account.id}/transactions?pageSize=3`, accessToken)).json();
      const page2 = (await get(`/v1/accounts/${account.id}/transactions?pageSize=3&pagingToken=${encodeURIComponent(page1.pagingToken)}`, accessToken)).json();
      const paged = [...page1.transactions, ...page2.transactions];
      assert.deepEqual(paged.map((t: { id: string }) => t.id), ids);
      for (const [i, transaction] of paged.entries()) assert.deepEqual(transaction, await own(ids[i]!), `row ${i}`);
      assert.equal(paged[0].text, 'A\u0001B');
      assert.equal(paged[0].detail.counterpartyName, '');
      assert.equal(paged[1].categories[0].name, 'Food and drink');
      assert.equal(paged[2].detail, null);
      assert.deepEqual([paged[3].text, paged[3].originalText, paged[3].detail, paged[3].categories], ['=', '', { valueDate: null, counterpartyName: '=' }, [{ id: '=', name: '=' }]]);
      assert.deepEqual([paged[4].detail, paged[4].amount, paged[4].balance.value], [{ valueDate: '2020-01-01', counterpartyName: '' }, -0.01, 0]);
      assert.deepEqual([paged[5].text, paged[5].detail, paged[5].categories, paged[5].balance], [odd[5]!.text, null, [], null]);
      assert.deepEqual(paged[5].transactionAmount, { currency: account.currency, value: 1234567890.12 });
      // The same rows through the query endpoint, which reads them by another statement.
      const queried = (await post(`/v1/accounts/${account.id}/transactions/query`, accessToken, { pageSize: 6 })).json();
      assert.deepEqual(queried.transactions, paged);
    });

    it('shows any account name a bank may send, in the list, the account and its pages', async () => {
      const { accessToken } = await connectConsent(server, client, { username: 'jane' });
      await runJobs(server);
      const [first, second] = (await get('/v1/accounts', accessToken)).json().accounts;
      await server.testDb.database.db.updateTable('accounts').set({ name: 'A\u0001B', owner: '=', bban: '' }).where('id', '=', first.id).execute();
      await server.testDb.database.db.updateTable('accounts').set({ name: '', owner: 'Ærø "🚲"', bban: null }).where('id', '=', second.id).execute();
      const listed = (await get('/v1/accounts', accessToken)).json().accounts;
      assert.deepEqual([listed[0].name, listed[0].owner, listed[0].number.bban], ['A\u0001B', '=', '']);
      assert.deepEqual([listed[1].name, listed[1].owner, listed[1].number.bban], ['', 'Ærø "🚲"', null]);
      for (const account of listed) {
        assert.deepEqual((await get(`/v1/accounts/${account.id}`, accessToken)).json(), account);
        const page = await get(`/v1/accounts/${account.id}/transactions?pageSize=2`, accessToken);
        assert.equal(page.statusCode, 200, page.body);
        assert.equal(page.json().transactions.length, 2);
      }
    });

    it('filters by interval and amount, and keeps paging within the query', async () => {
      const { accessToken } = await connectConsent(server, client, { username: 'jane' });
      await runJobs(server);
      const account = (await get('/v1/accounts', accessToken)).json().accounts[0];
      const res = await post(`/v1/accounts/${account.id}/transactions/query`, accessToken, {
        interval: '2025-06-01T00:00:00Z/2025-07-01T00:00:00Z',
        amountValueBetween: { max: 0 },
        pageSize: 5,
      });
      assert.equal(res.statusCode, 200, res.body);
      const page = res.json();
      assert.ok(page.transactions.every((t: { date: string; transactionAmount: { value: number } }) => t.date >= '2025-06-01' && t.date < '2025-07-01' && t.transactionAmount.value <= 0));
      if (page.pagingToken) {
        const other = await post(`/v1/accounts/${account.id}/transactions/query`, accessToken, { pagingToken: page.pagingToken, pageSize: 5 });
        assert.equal(other.statusCode, 400, 'a token from one query does not page another');
      }
    });

    it('refuses forged, altered and foreign paging tokens with 400', async () => {
      const { accessToken } = await connectConsent(server, client, { username: 'jane' });
      await runJobs(server);
      const [first, second] = (await get('/v1/accounts', accessToken)).json().accounts;
      const page = (await get(`/v1/accounts/${first.id}/transactions?pageSize=2`, accessToken)).json();
      assert.ok(page.pagingToken);
      const altered = `${page.pagingToken.slice(0, -2)}${page.pagingToken.endsWith('A') ? 'B' : 'A'}A`;
      for (const token of ['garbage', altered, Buffer.from('[1,"2030-01-01",1,"x"]').toString('base64url') + '.abc']) {
        const res = await get(`/v1/accounts/${first.id}/transactions?pagingToken=${encodeURIComponent(token)}`, accessToken);
        assert.equal(res.statusCode, 400);
        assert.equal(res.json().error, 'invalid_request');
      }
      if (second) {
        const foreign = await get(`/v1/accounts/${second.id}/transactions?pagingToken=${encodeURIComponent(page.pagingToken)}`, accessToken);
        assert.equal(foreign.statusCode, 400);
      }
    });

    it('makes other consents’ accounts and transactions unreachable: every id is a 404', async () => {
      const mine = await connectConsent(server, client, { username: 'jane' });
      const other = await connectConsent(server, client, { username: 'john' });
      await runJobs(server);
      const otherAccounts = (await get('/v1/accounts', other.accessToken)).json().accounts;
      assert.ok(otherAccounts.length > 0);
      for (const account of otherAccounts) {
        assert.equal((await get(`/v1/accounts/${account.id}`, mine.accessToken)).statusCode, 404);
        assert.equal((await get(`/v1/accounts/${account.id}/transactions`, mine.accessToken)).statusCode, 404);
        assert.equal((await post(`/v1/accounts/${account.id}/transactions/query`, mine.accessToken, {})).statusCode, 404);
        const txs = (await get(`/v1/accounts/${account.id}/transactions?pageSize=1000`, other.accessToken)).json().transactions;
        const myAccount = (await get('/v1/accounts', mine.accessToken)).json().accounts[0];
        for (const tx of txs.slice(0, 200)) {
          assert.equal((await get(`/v1/accounts/${account.id}/transactions/${tx.id}`, mine.accessToken)).statusCode, 404);
          assert.equal((await get(`/v1/accounts/${myAccount.id}/transactions/${tx.id}`, mine.accessToken)).statusCode, 404);
        }
      }
      assert.equal((await get(`/v1/consent/${other.consentId}/all-accounts-selected`, mine.accessToken)).statusCode, 404);
      assert.deepEqual((await get(`/v1/consent/${mine.consentId}/all-accounts-selected`, mine.accessToken)).json(), { allAccountsSelected: true });
    });

    describe('bearer errors (RFC 6750 §3)', () => {
      it('answers a malformed or forged token with 401 and WWW-Authenticate: Bearer error="invalid_token"', async () => {
        const { accessToken } = await connectConsent(server, client, { username: 'jane' });
        const forged = `${accessToken.slice(0, accessToken.lastIndexOf('.'))}.${'A'.repeat(43)}`;
        for (const authorization of ['Bearer not-a-jwt', `Bearer ${forged}`, 'bearer ???', 'Bearer']) {
          const res = await server.app.inject({ method: 'GET', url: '/v1/accounts', headers: { authorization } });
          assert.equal(res.statusCode, 401, authorization);
          const challenge = String(res.headers['www-authenticate']);
          assert.match(challenge, /^Bearer realm="Ferry", error="invalid_token", error_description="[^"]+"$/, authorization);
          // An auth-param's quoted string holds printable ASCII but `"` and `\` (RFC 6750 §3).
          assert.match(challenge, /^[\x20-\x7e]+$/);
          assert.equal(res.json().error, 'invalid_token');
        }
      });

      it('answers a request with no bearer token at all with 401 and a challenge without an error code (RFC 6750 §3.1)', async () => {
        for (const headers of [{}, { authorization: 'Basic abc' }, { authorization: 'Bearerabc' }]) {
          const res = await server.app.inject({ method: 'GET', url: '/v1/accounts', headers });
          assert.equal(res.statusCode, 401);
          assert.equal(res.headers['www-authenticate'], 'Bearer realm="Ferry"');
          // The body still says what is missing, in the API's own error format.
          assert.equal(res.json().error, 'invalid_token');
          assert.match(res.json().error_description, /bearer access token is required/);
        }
      });

      it('answers 401 once the grant is revoked, and once the one-time deadline passes', async () => {
        const a = await connectConsent(server, client, { username: 'jane' });
        assert.equal((await get('/v1/accounts', a.accessToken)).statusCode, 200);
        const grant = await server.services.database.db.selectFrom('grants').select('id').where('consent_id', '=', a.consentId).executeTakeFirstOrThrow();
        await revokeGrant(server.services.database.db, grant.id, server.clock.now(), 'test');
        assert.equal((await get('/v1/accounts', a.accessToken)).statusCode, 401);

        const b = await connectConsent(server, client, { username: 'john' });
        const consent = await server.services.database.db.selectFrom('consents').select('delete_at').where('id', '=', b.consentId).executeTakeFirstOrThrow();
        server.clock.set(consent.delete_at! - 1000);
        // The access token itself expired after an hour; refresh to get one that lives to the deadline.
        const refreshed = await server.app.inject({
          method: 'POST',
          url: '/v1/oauth/token',
          headers: { authorization: client.basic, 'content-type': 'application/json' },
          payload: JSON.stringify({ grant_type: 'refresh_token', refresh_token: b.refreshToken }),
        });
        assert.equal(refreshed.statusCode, 200, refreshed.body);
        const token = refreshed.json().access_token;
        assert.equal((await get('/v1/accounts', token)).statusCode, 200, 'one second before the deadline the data is there');
        server.clock.set(consent.delete_at!);
        assert.equal((await get('/v1/accounts', token)).statusCode, 401, 'at the deadline it is gone');
      });

      if (dialect === 'sqlite') {
        it('answers 401 as soon as another connection to the file (another process, the CLI) revokes the grant', async () => {
          // Kept reads (data-store.ts) trust the change mark: another connection's commit must end them.
          const a = await connectConsent(server, client, { username: 'jane' });
          for (let i = 0; i < 3; i++) assert.equal((await get('/v1/accounts', a.accessToken)).statusCode, 200);
          const config = server.services.config.database;
          assert.equal(config.dialect, 'sqlite');
          const other = new SQLite(config.dialect === 'sqlite' ? config.file : '');
          try {
            other.prepare('update grants set revoked_at = ? where consent_id = ?').run(server.clock.now(), a.consentId);
          } finally {
            other.close();
          }
          assert.equal((await get('/v1/accounts', a.accessToken)).statusCode, 401);
        });
      }
    });

    it('answers requests of several consents made at once each with its own consent’s data, and a revoked one with 401', async () => {
      // Requests of one turn are read together on PostgreSQL (data-store.ts): none may get another's rows.
      const jane = await connectConsent(server, client, { username: 'jane' });
      const john = await connectConsent(server, client, { username: 'john' });
      const gone = await connectConsent(server, client, { username: 'joan' });
      await runJobs(server);
      const accountsOf = async (token: string) => (await get('/v1/accounts', token)).json().accounts as Array<{ id: string }>;
      const janes = await accountsOf(jane.accessToken);
      const johns = await accountsOf(john.accessToken);
      const grant = await server.services.database.db.selectFrom('grants').select('id').where('consent_id', '=', gone.consentId).executeTakeFirstOrThrow();
      await revokeGrant(server.services.database.db, grant.id, server.clock.now(), 'test');
      const requests = [
        { token: jane.accessToken, url: '/v1/accounts', status: 200, body: { accounts: janes } },
        { token: john.accessToken, url: '/v1/accounts', status: 200, body: { accounts: johns } },
        { token: gone.accessToken, url: '/v1/accounts', status: 401 },
        { token: jane.accessToken, url: `/v1/accounts/${janes[0]!.id}`, status: 200, body: janes[0] },
        { token: john.accessToken, url: `/v1/accounts/${janes[0]!.id}`, status: 404 },
        { token: john.accessToken, url: `/v1/accounts/${johns[0]!.id}`, status: 200, body: johns[0] },
        { token: gone.accessToken, url: `/v1/accounts/${janes[0]!.id}`, status: 401 },
        { token: jane.accessToken, url: '/v1/accounts', status: 200, body: { accounts: janes } },
      ];
      for (let round = 0; round < 3; round++) {
        const answers = await Promise.all(requests.map((r) => get(r.url, r.token)));
        answers.forEach((res, i) => {
          assert.equal(res.statusCode, requests[i]!.status, `${requests[i]!.url}: ${res.body}`);
          if (requests[i]!.body !== undefined) assert.deepEqual(res.json(), requests[i]!.body);
        });
      }
    });

    it('queues a resync on POST /v1/update (AllQueued)', async () => {
      const { accessToken } = await connectConsent(server, client, { username: 'jane', scopes: 'accounts offline_access' });
      await runJobs(server);
      const res = await post('/v1/update', accessToken, { redirectUrl: client.redirectUri });
      assert.equal(res.statusCode, 200);
      assert.deepEqual(res.json(), { status: 'AllQueued', authUrl: null });
      const pending = await server.services.database.db.selectFrom('jobs').select('run_at').where('status', '=', 'pending').where('kind', '=', 'sync').execute();
      assert.ok(pending.some((j) => j.run_at <= server.clock.now()));
    });

    it('records SyncDone after the first sync', async () => {
      const { consentId } = await connectConsent(server, client, { username: 'jane' });
      await runJobs(server);
      const events = await server.services.database.db.selectFrom('events').selectAll().where('consent_id', '=', consentId).execute();
      assert.deepEqual(events.map((e) => e.event), ['SyncDone']);
      assert.ok(JSON.parse(events[0]!.data!).syncedAccountIds.length > 0);
    });
  });
}
