import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { sql } from 'kysely';
import { sweepExpiredConsents } from '../../src/consents/retention.js';
import { connectConsent, runJobs } from '../helpers/connect.js';
import { DIALECTS, type Dialect } from '../helpers/database.js';
import { createTestClient, createTestServer, type TestClient, type TestServer } from '../helpers/server.js';

/** Every row of every table, as text: what a scan for leftover personal data reads. */
async function dumpEveryTable(server: TestServer, dialect: Dialect): Promise<Record<string, string>> {
  const db = server.services.database.db;
  const tables =
    dialect === 'sqlite'
      ? (await sql<{ name: string }>`select name from sqlite_master where type = 'table' and name not like 'sqlite_%'`.execute(db)).rows.map((r) => r.name)
      : (await sql<{ name: string }>`select table_name as name from information_schema.tables where table_schema = current_schema()`.execute(db)).rows.map((r) => r.name);
  const dump: Record<string, string> = {};
  for (const table of tables) dump[table] = JSON.stringify((await sql`select * from ${sql.table(table)}`.execute(db)).rows);
  return dump;
}

for (const dialect of DIALECTS) {
  describe(`one-time retention: deletion within 24 hours that can be proven (issue #6) [${dialect}]`, () => {
    let server: TestServer;
    let client: TestClient;

    beforeEach(async () => {
      server = await createTestServer(dialect);
      client = await createTestClient(server);
    });
    afterEach(async () => {
      await server.close();
    });

    const basicGet = (url: string) => server.app.inject({ method: 'GET', url, headers: { authorization: client.basic } });
    const bearerGet = (url: string, token: string) => server.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } });

    it('keeps the data until the deadline, hides it at the deadline, and the sweep leaves no personal value in any table', async () => {
      const username = 'retention-user-7f3a';
      const email = 'retention.person@example.org';
      const consent = await connectConsent(server, client, { username, email });
      await runJobs(server);
      const accounts = (await bearerGet('/v1/accounts', consent.accessToken)).json().accounts;
      const account = accounts[0];
      const transactions = (await bearerGet(`/v1/accounts/${account.id}/transactions?pageSize=1000`, consent.accessToken)).json().transactions;
      const personal = [
        username,
        email,
        account.owner,
        account.number.iban,
        account.number.bban,
        ...accounts.map((a: { name: string }) => a.name),
        ...transactions.map((t: { originalText: string }) => t.originalText).filter((text: string) => text.length > 8),
      ].filter((v): v is string => typeof v === 'string' && v.length > 0);
      assert.ok(personal.length > 10);

      const row = await server.services.database.db.selectFrom('consents').select('delete_at').where('id', '=', consent.consentId).executeTakeFirstOrThrow();
      const deadline = row.delete_at!;
      assert.equal(deadline - server.clock.now() <= 24 * 3600_000, true);

      // One second before: everything is there (a refreshed token, since the first one lived an hour).
      server.clock.set(deadline - 1000);
      const refresh = await server.app.inject({
        method: 'POST',
        url: '/v1/oauth/token',
        headers: { authorization: client.basic, 'content-type': 'application/json' },
        payload: JSON.stringify({ grant_type: 'refresh_token', refresh_token: consent.refreshToken }),
      });
      assert.equal(refresh.statusCode, 200);
      const late = refresh.json();
      assert.ok(late.expires_in <= 1, 'the access token does not outlive the deadline');
      assert.equal((await bearerGet('/v1/accounts', late.access_token)).statusCode, 200);
      assert.equal((await basicGet(`/v1/consents/${consent.consentId}`)).json().status, 'Active');

      // At the deadline, with the sweeper not yet run: nothing answers with data.
      server.clock.set(deadline);
      assert.equal((await bearerGet('/v1/accounts', late.access_token)).statusCode, 401);
      assert.equal((await bearerGet(`/v1/accounts/${account.id}/transactions`, late.access_token)).statusCode, 401);
      const refreshAfter = await server.app.inject({
        method: 'POST',
        url: '/v1/oauth/token',
        headers: { authorization: client.basic, 'content-type': 'application/json' },
        payload: JSON.stringify({ grant_type: 'refresh_token', refresh_token: late.refresh_token }),
      });
      assert.equal(refreshAfter.json().error, 'invalid_grant');
      assert.equal((await basicGet(`/v1/consents/${consent.consentId}`)).json().status, 'Expired');
      const before = JSON.stringify(await dumpEveryTable(server, dialect));
      assert.ok(personal.some((value) => before.includes(value)), 'the data is still stored until the sweep');

      const report = await sweepExpiredConsents({ db: server.services.database.db, capabilities: server.services.database.capabilities, clock: server.clock });
      assert.equal(report.erased, 1);
      const dump = await dumpEveryTable(server, dialect);
      for (const [table, rows] of Object.entries(dump)) {
        for (const value of personal) assert.equal(rows.includes(value), false, `${table} still holds ${JSON.stringify(value)}`);
      }

      const view = (await basicGet(`/v1/consents/${consent.consentId}`)).json();
      assert.equal(view.status, 'Deleted');
      assert.equal(view.receipt.reason, 'OneTimeRetention');
      assert.equal(view.receipt.deadline, new Date(deadline).toISOString());
      assert.ok(view.receipt.rowCounts.transactions > 0);
      assert.ok(view.receipt.rowCounts.accounts > 0);
      const events = await server.services.database.db.selectFrom('events').select(['event', 'data']).where('consent_id', '=', consent.consentId).execute();
      assert.ok(events.some((e) => e.event === 'DataDeleted' && JSON.parse(e.data!).reason === 'OneTimeRetention'));
    });

    it('revokes a consent for its app: erased at once, ConsentRevoked and DataDeleted recorded', async () => {
      const consent = await connectConsent(server, client, { username: 'jane', scopes: 'accounts offline_access' });
      await runJobs(server);
      const other = await createTestClient(server, ['https://other.example.com/cb']);
      const foreign = await server.app.inject({ method: 'DELETE', url: `/v1/consents/${consent.consentId}`, headers: { authorization: other.basic } });
      assert.equal(foreign.statusCode, 404, 'another app cannot see or revoke it');

      const res = await server.app.inject({ method: 'DELETE', url: `/v1/consents/${consent.consentId}`, headers: { authorization: client.basic } });
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.json().status, 'Deleted');
      assert.equal(res.json().receipt.reason, 'ConsentRevoked');
      assert.equal((await bearerGet('/v1/accounts', consent.accessToken)).statusCode, 401);
      const left = await server.services.database.db.selectFrom('transactions').select('id').where('consent_id', '=', consent.consentId).execute();
      assert.equal(left.length, 0);
      const events = (await server.services.database.db.selectFrom('events').select('event').where('consent_id', '=', consent.consentId).orderBy('created_at').execute()).map((e) => e.event);
      assert.deepEqual(events.slice(-2), ['ConsentRevoked', 'DataDeleted']);
      const again = await server.app.inject({ method: 'DELETE', url: `/v1/consents/${consent.consentId}`, headers: { authorization: client.basic } });
      assert.equal(again.statusCode, 200, 'revoking twice answers the same receipt');
    });

    it('asks for client authentication on the consent API', async () => {
      const res = await server.app.inject({ method: 'GET', url: '/v1/consents/whatever' });
      assert.equal(res.statusCode, 401);
      assert.equal(res.json().error, 'invalid_client');
    });
  });
}

if (DIALECTS.includes('postgres')) {
  describe('two sweepers on one PostgreSQL erase each consent once', () => {
    it('shares the work without erasing anything twice', async () => {
      const server = await createTestServer('postgres');
      try {
        const client = await createTestClient(server);
        const consents = [];
        for (let i = 0; i < 12; i++) consents.push(await connectConsent(server, client, { username: `sweep-${i}` }));
        await runJobs(server);
        server.clock.advance(25 * 3600_000);
        const { openDatabase } = await import('../../src/db/database.js');
        const second = await openDatabase(server.testDb.config, { schema: server.testDb.schema });
        try {
          const reports = await Promise.all([
            sweepExpiredConsents({ db: server.services.database.db, capabilities: server.services.database.capabilities, clock: server.clock }),
            sweepExpiredConsents({ db: second.db, capabilities: second.capabilities, clock: server.clock }),
          ]);
          assert.equal(reports[0].erased + reports[1].erased, 12);
          const receipts = await server.services.database.db.selectFrom('deletion_receipts').select('consent_id').execute();
          assert.equal(receipts.length, 12);
          const deleted = await server.services.database.db.selectFrom('events').select('consent_id').where('event', '=', 'DataDeleted').execute();
          assert.equal(deleted.length, 12, 'one DataDeleted per consent');
        } finally {
          await second.close();
        }
      } finally {
        await server.close();
      }
    });
  });
}
