import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { nextSweepAt, sweepExpiredConsents, SWEEP_CATCH_UP_AFTER_MS, SWEEP_INTERVAL_MS } from '../../src/consents/retention.js';
import { pauseAfterBatch } from '../../src/consents/sweep-batch.js';
import { connectConsent, runJobs, type ConnectedConsent } from '../helpers/connect.js';
import { DIALECTS } from '../helpers/database.js';
import { createTestClient, createTestServer, type TestClient, type TestServer } from '../helpers/server.js';

for (const dialect of DIALECTS) {
  describe(`the retention sweep erases consents in batches (issue #6) [${dialect}]`, () => {
    let server: TestServer;
    let client: TestClient;
    beforeEach(async () => {
      server = await createTestServer(dialect);
      client = await createTestClient(server);
    });
    afterEach(async () => {
      await server.close();
    });

    /** What a receipt should count for the consent: its rows in every table, read one consent at a time. */
    async function rowsOf(consentId: string): Promise<Record<string, number>> {
      const db = server.services.database.db;
      const n = async (query: { execute(): Promise<unknown[]> }) => (await query.execute()).length;
      const grants = db.selectFrom('grants').select('id').where('consent_id', '=', consentId);
      return {
        transactions: await n(db.selectFrom('transactions').select('id').where('consent_id', '=', consentId)),
        accounts: await n(db.selectFrom('accounts').select('id').where('consent_id', '=', consentId)),
        connections: await n(db.selectFrom('connections').select('consent_id').where('consent_id', '=', consentId)),
        refresh_tokens: await n(db.selectFrom('refresh_tokens').select('hash').where('grant_id', 'in', grants)),
        grants: await n(grants),
        authorization_codes: await n(db.selectFrom('authorization_codes').select('hash').where('consent_id', '=', consentId)),
        flow_sessions: await n(db.selectFrom('flow_sessions').select('id').where('consent_id', '=', consentId)),
        jobs: await n(db.selectFrom('jobs').select('id').where('consent_id', '=', consentId).where('status', '!=', 'running')),
        consents: 1,
      };
    }

    const refresh = (consent: ConnectedConsent) =>
      server.app.inject({
        method: 'POST',
        url: '/v1/oauth/token',
        headers: { authorization: client.basic, 'content-type': 'application/json' },
        payload: JSON.stringify({ grant_type: 'refresh_token', refresh_token: consent.refreshToken }),
      });

    it('gives each consent of a batch a receipt with its own row counts, and leaves other consents alone', async () => {
      const expiring: ConnectedConsent[] = [];
      for (const username of ['batch-anna', 'batch-bo', 'batch-cai', 'batch-dee', 'batch-eli']) expiring.push(await connectConsent(server, client, { username }));
      const regular = await connectConsent(server, client, { username: 'batch-kept', scopes: 'accounts offline_access' });
      await runJobs(server);
      // Different shapes: one consent with a rotated refresh token, one whose sync job is still pending.
      assert.equal((await refresh(expiring[1]!)).statusCode, 200);
      await server.services.database.db.updateTable('jobs').set({ status: 'pending' }).where('consent_id', '=', expiring[3]!.consentId).execute();
      const expected = new Map<string, Record<string, number>>();
      for (const c of expiring) expected.set(c.consentId, await rowsOf(c.consentId));
      assert.ok(new Set([...expected.values()].map((r) => r.transactions)).size > 1, 'the users have different numbers of transactions');
      assert.equal(expected.get(expiring[1]!.consentId)!.refresh_tokens, 2);
      const regularBefore = await rowsOf(regular.consentId);

      // The app has a webhook: each DataDeleted gets its delivery, in the sweep's transaction.
      await server.services.database.db.updateTable('apps').set({ webhook_url: 'https://hooks.example.com/ferry' }).where('id', '=', client.clientId).execute();
      server.clock.advance(25 * 3600_000);
      // Batches of 2, then of 3 or so: every batch erases several consents at once. As the server
      // sweeps: in the sweep's own thread, with a connection of its own to the database.
      const { database } = server.services;
      const report = await sweepExpiredConsents({ db: database.db, capabilities: database.capabilities, clock: server.clock }, 1000, {
        firstBatch: 2,
        batchRows: 3 * 1500,
        busyShare: 1,
      });
      assert.equal(report.erased, 5);
      assert.equal(report.ownThread, true, 'the batches ran in the sweep’s own thread');

      for (const c of expiring) {
        const view = (await server.app.inject({ method: 'GET', url: `/v1/consents/${c.consentId}`, headers: { authorization: client.basic } })).json();
        assert.equal(view.status, 'Deleted');
        assert.deepEqual(view.receipt.rowCounts, expected.get(c.consentId), `the receipt of ${c.consentId} counts its own rows`);
        assert.deepEqual(Object.values(await rowsOf(c.consentId)).slice(0, -1), [0, 0, 0, 0, 0, 0, 0, 0], 'nothing of it is left');
      }
      const sum = (table: string) => [...expected.values()].reduce((s, r) => s + r[table]!, 0);
      assert.equal(report.rows.transactions, sum('transactions'));
      assert.equal(report.rows.accounts, sum('accounts'));
      const deleted = await server.services.database.db.selectFrom('events').select('consent_id').where('event', '=', 'DataDeleted').execute();
      assert.deepEqual(deleted.map((e) => e.consent_id).sort(), expiring.map((c) => c.consentId).sort(), 'one DataDeleted per erased consent');
      const deliveries = await server.services.database.db
        .selectFrom('webhook_deliveries')
        .innerJoin('events', 'events.id', 'webhook_deliveries.event_id')
        .select(['events.consent_id', 'events.event', 'webhook_deliveries.url', 'webhook_deliveries.status'])
        .execute();
      assert.deepEqual(
        deliveries.map((d) => [d.consent_id, d.event, d.url, d.status]).sort(),
        expiring.map((c) => [c.consentId, 'DataDeleted', 'https://hooks.example.com/ferry', 'pending']).sort(),
        'each DataDeleted is due at the app’s webhook',
      );
      // (Its spent code, finished flow and done job are purged 25 hours on, as housekeeping.)
      const { transactions, accounts, connections, grants, refresh_tokens } = await rowsOf(regular.consentId);
      assert.deepEqual({ transactions, accounts, connections, grants, refresh_tokens }, {
        transactions: regularBefore.transactions,
        accounts: regularBefore.accounts,
        connections: regularBefore.connections,
        grants: regularBefore.grants,
        refresh_tokens: regularBefore.refresh_tokens,
      }, 'the regular consent keeps its data');
    });

    // PostgreSQL: the thread connects with the server's URL; SQLite's finds its file through the connection itself.
    if (dialect === 'postgres') {
      it('erases on the serving connection when its own thread cannot connect, and says so', async () => {
        const expiring = [await connectConsent(server, client, { username: 'fallback-one' }), await connectConsent(server, client, { username: 'fallback-two' })];
        await runJobs(server);
        server.clock.advance(25 * 3600_000);
        const { database } = server.services;
        // The thread opens the database as the server did (FerryDatabase.opened); here, a server nobody listens on.
        const opened = database.opened;
        Object.assign(database, { opened: { config: { dialect: 'postgres', url: 'postgres://postgres@127.0.0.1:1/nowhere', poolSize: 1 }, options: {} } });
        let report;
        try {
          report = await sweepExpiredConsents({ db: database.db, capabilities: database.capabilities, clock: server.clock });
        } finally {
          Object.assign(database, { opened });
        }
        assert.equal(report.erased, 2);
        assert.equal(report.ownThread, false);
        const left = await database.db.selectFrom('consents').select('id').where('id', 'in', expiring.map((c) => c.consentId)).execute();
        assert.deepEqual(left, []);
      });
    }

    it('schedules the next sweep at once while deadlines are overdue, else at the next deadline or within a minute', async () => {
      const db = server.services.database.db;
      await connectConsent(server, client, { username: 'overdue-one' });
      const deadline = (await db.selectFrom('consents').select('delete_at').executeTakeFirstOrThrow()).delete_at!;
      server.clock.set(deadline - 10_000);
      assert.equal(await nextSweepAt(db, server.clock.now()), deadline, 'at the deadline, 10 s from now');
      server.clock.set(deadline + 5_000);
      // Left by a sweep that stopped at its time limit, say.
      assert.equal(await nextSweepAt(db, server.clock.now()), server.clock.now() + 250);
      await sweepExpiredConsents({ db, capabilities: server.services.database.capabilities, clock: server.clock });
      assert.equal(await nextSweepAt(db, server.clock.now()), server.clock.now() + SWEEP_INTERVAL_MS);
    });

    it('answers the data API between batches rather than after the whole sweep', async () => {
      const expiring: ConnectedConsent[] = [];
      for (let i = 0; i < 4; i++) expiring.push(await connectConsent(server, client, { username: `between-${i}` }));
      const regular = await connectConsent(server, client, { username: 'between-kept', scopes: 'accounts offline_access' });
      await runJobs(server);
      server.clock.advance(25 * 3600_000);
      const token = (await refresh(regular)).json().access_token as string;
      let sweepDone = false;
      // One consent a batch: four transactions, with the event loop's turns in between.
      const sweep = sweepExpiredConsents({ db: server.services.database.db, capabilities: server.services.database.capabilities, clock: server.clock }, 1000, {
        firstBatch: 1,
        batchRows: 1,
        busyShare: 1,
      }).then((report) => {
        sweepDone = true;
        return report;
      });
      const answer = await server.app.inject({ method: 'GET', url: '/v1/accounts', headers: { authorization: `Bearer ${token}` } });
      const answeredDuringSweep = !sweepDone;
      assert.equal(answer.statusCode, 200);
      assert.equal((await sweep).erased, 4);
      assert.ok(answeredDuringSweep, 'the request was answered before the sweep finished');
    });

    it('keeps taking writes (refresh token rotations) while the sweep erases, on SQLite from its own thread', async () => {
      const expiring: ConnectedConsent[] = [];
      for (let i = 0; i < 4; i++) expiring.push(await connectConsent(server, client, { username: `writer-${i}` }));
      const regular = await connectConsent(server, client, { username: 'writer-kept', scopes: 'accounts offline_access' });
      await runJobs(server);
      server.clock.advance(25 * 3600_000);
      let sweepDone = false;
      const sweep = sweepExpiredConsents({ db: server.services.database.db, capabilities: server.services.database.capabilities, clock: server.clock }, 1000, {
        firstBatch: 1,
        batchRows: 1,
        busyShare: 1,
      }).then((report) => {
        sweepDone = true;
        return report;
      });
      let refreshToken = regular.refreshToken;
      const statuses: number[] = [];
      let duringSweep = 0;
      // A few rotations, spaced out (the token endpoint is rate-limited), while the sweep runs.
      while (!sweepDone && statuses.length < 8) {
        const answer = await refresh({ ...regular, refreshToken });
        statuses.push(answer.statusCode);
        if (answer.statusCode !== 200) break;
        refreshToken = answer.json().refresh_token as string;
        if (!sweepDone) duringSweep++;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      assert.equal((await sweep).erased, 4);
      assert.deepEqual(new Set(statuses), new Set([200]), 'every rotation succeeded');
      assert.ok(duringSweep > 0, 'rotations were answered while the sweep ran');
      assert.equal(await server.services.database.db.selectFrom('consents').select('id').where('id', 'in', expiring.map((c) => c.consentId)).execute().then((r) => r.length), 0);
    });
  });
}

describe('the retention sweep’s pacing between batches', () => {
  const pacing = { busyShare: 0.5, catchUpAfterMs: SWEEP_CATCH_UP_AFTER_MS };
  it('leaves the data API its share while the sweep keeps up with the deadlines', () => {
    assert.equal(pauseAfterBatch(40, 0, pacing), 40);
    assert.equal(pauseAfterBatch(40, SWEEP_CATCH_UP_AFTER_MS, pacing), 40);
    assert.equal(pauseAfterBatch(30, 1000, { ...pacing, busyShare: 0.6 }), 20);
  });
  it('waits no more once it is behind: the deadline is the promise, the share a courtesy', () => {
    assert.equal(pauseAfterBatch(40, SWEEP_CATCH_UP_AFTER_MS + 1, pacing), 0);
    assert.equal(pauseAfterBatch(40, 113_000, pacing), 0);
    assert.equal(pauseAfterBatch(40, 0, { ...pacing, busyShare: 1 }), 0);
  });
});
